"""Net exposure per currency, hand-computed, in the account's own currency.

Prices are Decimal mids; a conversion uses the direct pair, else the inverse pair,
else two legs through USD (platform contract, section 5).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeops.exposure import (
    NoConversionPath,
    RefusedInstruments,
    account_exposure,
    conversion_pairs,
    home_rate,
    net_exposure,
    pair_name,
)

MIDS = {"EUR_USD": D("1.10"), "USD_JPY": D("150"), "EUR_GBP": D("0.85"), "GBP_USD": D("1.25")}


def test_a_long_eurusd_position_is_long_euro_and_short_dollars():
    exposure = net_exposure({"EUR_USD": 1000}, MIDS)
    assert exposure == {"EUR": D("1100.00"), "USD": D("-1100.00")}


def test_a_cross_is_valued_in_dollars_through_the_majors():
    exposure = net_exposure({"EUR_GBP": 1000}, MIDS)
    assert exposure["EUR"] == D("1100.00")
    assert exposure["GBP"] == D("-850.00") * D("1.25")


def test_yen_is_valued_through_the_inverse_pair():
    exposure = net_exposure({"USD_JPY": -1000}, MIDS)
    assert exposure["USD"] == D(-1000)
    assert exposure["JPY"] == pytest.approx(D(1000))


def test_offsetting_positions_cancel_out():
    exposure = net_exposure({"EUR_USD": 1000, "EUR_GBP": -1000}, MIDS)
    assert "EUR" not in exposure
    assert exposure == {"USD": D("-1100.00"), "GBP": D("850.00") * D("1.25")}


# -- the account's own currency: direct, inverse, crossed --------------------------------


@pytest.mark.parametrize(
    ("currency", "home", "rate"),
    [
        ("USD", "USD", D(1)),
        ("EUR", "USD", D("1.10")),  # direct: EUR_USD
        ("USD", "EUR", 1 / D("1.10")),  # inverse: EUR_USD read backwards
        ("USD", "JPY", D("150")),  # direct: USD_JPY
        ("JPY", "USD", 1 / D("150")),  # inverse
        ("GBP", "EUR", 1 / D("0.85")),  # inverse cross: EUR_GBP
        ("JPY", "GBP", 1 / D("150") / D("1.25")),  # crossed: JPY -> USD -> GBP
        ("GBP", "JPY", D("1.25") * D("150")),  # crossed: GBP_USD, then USD_JPY
        ("JPY", "EUR", 1 / D("150") / D("1.10")),  # crossed, both legs inverse
    ],
)
def test_a_currency_is_converted_direct_else_inverse_else_through_usd(currency, home, rate):
    assert home_rate(currency, MIDS, home) == rate


def test_a_direct_pair_wins_over_the_way_through_usd():
    mids = {**MIDS, "EUR_JPY": D("160")}  # a real cross, not quite 1.10 x 150 = 165
    assert home_rate("EUR", mids, "JPY") == D("160")


def test_a_euro_account_values_its_dollars_and_yen_in_euros():
    exposure = net_exposure({"EUR_USD": 1000, "USD_JPY": 500}, MIDS, home="EUR")
    # EUR +1000; USD -1100 + 500 = -600 -> -600 / 1.10 EUR; JPY -75000 -> / 150 / 1.10 EUR
    assert exposure["EUR"] == D(1000)
    assert exposure["USD"] == pytest.approx(D(-600) / D("1.10"))
    assert exposure["JPY"] == pytest.approx(D(-75000) / D("150") / D("1.10"))


def test_a_pound_account_values_a_yen_position_through_usd():
    exposure = net_exposure({"USD_JPY": 1000}, MIDS, home="GBP")
    assert exposure["USD"] == pytest.approx(D(1000) / D("1.25"))
    assert exposure["JPY"] == pytest.approx(D(-150000) / D("150") / D("1.25"))


def test_a_yen_account_values_pounds_through_usd():
    exposure = net_exposure({"GBP_USD": 100}, MIDS, home="JPY")
    assert exposure["GBP"] == D(100) * D("1.25") * D("150")
    assert exposure["USD"] == D(-125) * D("150")


def test_a_currency_with_no_path_is_the_suites_inability_not_a_key_error():
    with pytest.raises(NoConversionPath, match="no price converts ZAR to the account currency EUR"):
        net_exposure({"GBP_ZAR": 1000}, {"GBP_ZAR": D("23"), "EUR_GBP": D("0.85")}, "EUR")
    assert issubclass(NoConversionPath, LookupError)


@pytest.mark.parametrize(
    ("one", "other", "name"),
    [
        ("JPY", "USD", "USD_JPY"),
        ("USD", "EUR", "EUR_USD"),
        ("GBP", "EUR", "EUR_GBP"),
        ("JPY", "GBP", "GBP_JPY"),
        ("CAD", "CHF", "CAD_CHF"),
        ("ZAR", "USD", "USD_ZAR"),
    ],
)
def test_a_pair_is_named_as_oanda_names_it(one, other, name):
    assert pair_name(one, other) == name


def test_the_conversion_pairs_cover_every_currency():
    assert conversion_pairs(["EUR_GBP", "USD_JPY"]) == ["EUR_GBP", "EUR_USD", "GBP_USD", "USD_JPY"]
    assert conversion_pairs(["USD_JPY"], home="EUR") == ["EUR_JPY", "EUR_USD", "USD_JPY"]


class Broker:
    """A broker that prices only what it offers, refusing a whole call like OANDA's 400."""

    def __init__(self, offered: dict[str, D]) -> None:
        self.offered = offered
        self.calls: list[list[str]] = []

    def __call__(self, names: list[str]) -> dict[str, D]:
        self.calls.append(names)
        if any(n not in self.offered for n in names):
            raise RefusedInstruments("Invalid value specified for 'instruments'")
        return {n: self.offered[n] for n in names}


def test_an_account_asks_once_when_the_broker_offers_every_pair():
    broker = Broker(MIDS | {"EUR_JPY": D("165")})
    exposure = account_exposure({"USD_JPY": 1000}, "EUR", broker)
    assert len(broker.calls) == 1
    assert exposure["USD"] == pytest.approx(D(1000) / D("1.10"))


def test_a_cross_the_broker_does_not_offer_falls_back_to_the_legs_through_usd():
    broker = Broker(MIDS)  # no EUR_JPY
    exposure = account_exposure({"USD_JPY": 1000}, "EUR", broker)
    assert exposure["JPY"] == pytest.approx(D(-150000) / D("150") / D("1.10"))
    assert ["EUR_JPY"] in broker.calls  # asked alone, refused, left out


def test_an_account_without_positions_asks_nothing():
    broker = Broker(MIDS)
    assert account_exposure({"EUR_USD": 0}, "EUR", broker) == {}
    assert broker.calls == []


# -- through the sandbox's OANDA simulator: a euro account -------------------------------


def test_a_euro_account_at_the_simulator_is_valued_in_euros_from_its_own_prices(tmp_path):
    from tests.sandbox.conftest import ACCOUNT_A, T0_MS, new_token, sample_ledger, start_broker
    from tradeops._secret import Secret
    from tradeops.connectors.errors import BrokerError
    from tradeops.connectors.oanda import OandaBroker

    ledger = sample_ledger()
    ledger["home_currency"] = "EUR"
    # The simulator itself converts by direct or inverse pairs only: it needs EUR_JPY.
    ledger["instruments"]["EUR_JPY"] = {"mid": "162.623", "pip": "0.01", "precision": 3}
    for account in ledger["accounts"]:
        account["currency"] = "EUR"
    token = new_token()
    sim = start_broker(tmp_path, ledger, {token: [ACCOUNT_A]}, now_ms=T0_MS + 3_600_000)
    try:
        with OandaBroker("sim", sim.url, Secret(token, "$OANDA_TOKEN"), 5.0) as broker:
            assert broker.summary(ACCOUNT_A).currency == "EUR"
            asked: list[list[str]] = []

            def mids(names: list[str]) -> dict[str, D]:
                asked.append(names)
                try:
                    return {
                        p.instrument: (p.bid + p.ask) / 2 for p in broker.pricing(ACCOUNT_A, names)
                    }
                except BrokerError as exc:
                    if exc.kind == "http":
                        raise RefusedInstruments(str(exc)) from None
                    raise

            positions = {p.instrument: int(p.net_units) for p in broker.open_positions(ACCOUNT_A)}
            exposure = account_exposure(positions, "EUR", mids)
    finally:
        sim.stop()
    assert len(asked) == 1  # every pair it offers, in one pricing call
    assert asked[0] == ["EUR_GBP", "EUR_JPY", "EUR_USD", "GBP_USD", "USD_JPY"]
    assert set(exposure) == {"EUR", "USD", "JPY", "GBP"}
    # long 10k EUR_USD and 30k EUR_GBP: +40k EUR, valued 1:1 in a euro account
    assert exposure["EUR"] == D(40_000)
    assert exposure["JPY"] > 0  # short USD_JPY: long yen, a positive amount in euros
    assert exposure["USD"] < 0 and exposure["GBP"] < 0
