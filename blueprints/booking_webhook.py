"""The booking system's signed JSON webhook (HMAC, so exempt from CSRF)."""

from flask import Blueprint

bp = Blueprint("booking_webhook", __name__, url_prefix="/webhooks")
