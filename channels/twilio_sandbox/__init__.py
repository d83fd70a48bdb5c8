"""A local stand-in for Twilio: its REST API for messages and calls, status callbacks, an outbox.

It is not a channel: kanal's SMS and voice channels talk to it as they would to Twilio when
kanal runs without Twilio credentials (sandbox mode), and the tests exercise the same path.

- `peer`: the sandbox's own store and the threads that play Twilio's side;
- `api`: what its REST API shares (the URL, Twilio's errors, the credential check);
- `messages`: the Messages API; `voice`: the Calls API, placed calls and voice queues;
- `app`: the blueprint (and an app to serve the sandbox alone, as its own process);
- `sms_simulator`: a citizen's handset in a terminal (`kanal sms`).
"""
