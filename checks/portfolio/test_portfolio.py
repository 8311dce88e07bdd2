"""Layer 3, the portfolio: am I making or losing money overall?

Once per broker account (the account id is the test id): drawdown from the peak NAV,
today's loss, margin closeout, net exposure per currency, and the strategies' P&L adding
up to the NAV change. Judged only when layer 1 is green.

When an account's store positions differ from the broker's, only the figures derived
from the store's fills are in doubt for it (contract section 5): a check marked
`reads("store_fills")` is then skipped as unreliable. The broker's own figures (NAV,
margin closeout percent, open positions) and the platform's NAV snapshots are judged:
a P0 closeout must never hide behind a P1 divergence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeops import Finding, Where, expect_none, figures

pytestmark = pytest.mark.portfolio
DAY_MS = 86_400_000


def _start_of_day_ms(now_ms: int) -> int:
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    return int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="drawdown")
@pytest.mark.reads("broker", "store_snapshots")
def test_drawdown(account, account_summary, event_store, manifest, now_ms, request):
    """NAV is within the drawdown limit of its peak (snapshot history and the broker's NAV now)."""
    nav = account_summary(account).nav
    since = now_ms - int(manifest.tracking.window_days * DAY_MS)
    peak = max(event_store.nav_peak(account, since) or nav, nav)
    drawdown = (peak - nav) / peak
    limit = Decimal(str(manifest.portfolio.max_drawdown))
    figures.record(request, nav=nav, peak=peak, drawdown=drawdown, limit=limit)
    if drawdown > limit:
        expect_none(
            [
                Finding(
                    f"NAV {nav:.2f} is {drawdown:.1%} below its peak {peak:.2f} "
                    f"(limit {limit:.0%})",
                    Where(account=account),
                )
            ]
        )


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="daily-loss")
@pytest.mark.reads("broker", "store_snapshots")
def test_daily_loss(account, account_summary, event_store, manifest, now_ms, request):
    """Today's loss (NAV now against NAV at 00:00 UTC) is within its limit."""
    snapshot = event_store.snapshot_before(account, _start_of_day_ms(now_ms))
    if snapshot is None:
        pytest.skip("insufficient data: no ACCOUNT_SNAPSHOT before today")
    nav = account_summary(account).nav
    loss = (snapshot.nav - nav) / snapshot.nav
    limit = Decimal(str(manifest.portfolio.max_daily_loss))
    figures.record(request, nav=nav, day_start_nav=snapshot.nav, loss=loss, limit=limit)
    if loss > limit:
        expect_none(
            [
                Finding(
                    f"lost {loss:.1%} today: NAV {snapshot.nav:.2f} at the day's "
                    f"start, {nav:.2f} now (limit {limit:.0%})",
                    Where(account=account, seq=snapshot.seq),
                )
            ]
        )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="margin-closeout")
@pytest.mark.reads("broker")
def test_margin_closeout(account, account_summary, manifest, request):
    """Margin closeout percent is below its warning level (P2) and critical level (P0)."""
    percent = account_summary(account).margin_closeout_percent
    cfg = manifest.portfolio
    where = Where(account=account)
    warn, crit = cfg.margin_closeout_warning, cfg.margin_closeout_critical
    figures.record(request, percent=percent, warning=warn, critical=crit)
    if percent >= Decimal(str(cfg.margin_closeout_critical)):
        expect_none(
            [
                Finding(
                    f"margin closeout percent {percent:.2f} at or above critical "
                    f"{cfg.margin_closeout_critical} (1.0 = closed out)",
                    where,
                    "P0",
                )
            ]
        )
    if percent >= Decimal(str(cfg.margin_closeout_warning)):
        expect_none(
            [
                Finding(
                    f"margin closeout percent {percent:.2f} at or above warning "
                    f"{cfg.margin_closeout_warning}",
                    where,
                )
            ]
        )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="currency-exposure")
@pytest.mark.reads("broker")
def test_currency_exposure(account, account_summary, currency_exposure, manifest):
    """Net exposure per foreign currency (valued in the account currency) is within its
    limit; the account's own currency is its cash, not an exposure."""
    summary = account_summary(account)
    limit = Decimal(str(manifest.portfolio.max_currency_exposure))
    expect_none(
        Finding(
            f"net {currency} exposure {value:,.0f} {summary.currency} is "
            f"{abs(value) / summary.nav:.1f}x NAV (limit {limit}x)",
            Where(account=account),
        )
        for currency, value in sorted(currency_exposure(account).items())
        if currency != summary.currency and abs(value) > limit * summary.nav
    )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="pnl-reconciliation")
@pytest.mark.reads("store_fills")  # realized P&L is the store's TRADE_CLOSED: in doubt
def test_pnl_adds_up(account, account_summary, event_store, manifest, now_ms):
    """Since the day's first snapshot, the strategies' realized P&L plus the change in
    unrealized P&L equals the NAV change."""
    snapshot = event_store.snapshot_before(account, _start_of_day_ms(now_ms))
    if snapshot is None:
        pytest.skip("insufficient data: no ACCOUNT_SNAPSHOT before today")
    now = account_summary(account)
    realized = event_store.realized_pl(account, snapshot.ts)
    explained = realized + (now.unrealized_pl - snapshot.unrealized_pl)
    nav_change = now.nav - snapshot.nav
    tolerance = Decimal(str(manifest.portfolio.pnl_tolerance))
    if abs(nav_change - explained) > tolerance:
        expect_none(
            [
                Finding(
                    f"NAV changed {nav_change:+.2f} since {snapshot.nav:.2f}, the "
                    f"strategies account for {explained:+.2f} (realized "
                    f"{realized:+.2f}): {nav_change - explained:+.2f} unexplained",
                    Where(account=account, seq=snapshot.seq),
                )
            ]
        )
