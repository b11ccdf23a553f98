"""Webhooks from the SMS provider and the booking system (signed, so exempt from CSRF)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
