"""IVR turn latency: one caller's input answered with TwiML, with and without the bot."""
