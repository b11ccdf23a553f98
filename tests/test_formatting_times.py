"""Times read as people write them: no leading zeros on the day or the hour."""

from datetime import UTC, datetime

from blueprints.formatting import ago, localtime


def test_times_have_no_leading_zeros_on_the_day_or_the_hour(app):
    at = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)  # no organization: UTC
    with app.test_request_context():
        assert localtime(at) == "Dec 6, 2:05 PM"
        assert localtime(at, "%a %b %d, %I:%M %p") == "Sun Dec 6, 2:05 PM"
        assert localtime(datetime(2026, 11, 23, 10, 30, tzinfo=UTC)) == "Nov 23, 10:30 AM"
        assert ago(datetime(2020, 3, 4, tzinfo=UTC)) == "Mar 4"
        assert localtime(None) == ""
