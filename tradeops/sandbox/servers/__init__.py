"""The sandbox platform's own processes: the heartbeat writer and the control plane."""
