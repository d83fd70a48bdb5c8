"""The baseline: a bare Flask endpoint answering the same empty TwiML, no checks, no storage."""

from flask import Flask, Response

app = Flask(__name__)
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@app.post("/twilio/sms")
def receive_sms():
    return Response(EMPTY, mimetype="text/xml")


@app.get("/healthz")
def healthz():
    return "ok"
