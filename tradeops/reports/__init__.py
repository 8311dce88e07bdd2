"""The paper trail: reports kept, indexed and tamper-evident."""
