"""The sandbox's OANDA v20 simulator: one HTTP server for every sandbox broker login."""
