"""SIP peers for tests and trials: the pjsua2 phone and SIPp scenarios."""
