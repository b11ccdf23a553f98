"""Command-line administration: demo, create-org, create-user, set-password, set-role,
deactivate-user, add-number, doctor, worker, grant-runtime-role."""

import click
from flask import Blueprint, current_app
from flask_migrate import upgrade

from pawline import accounts, db_roles, demo, jobs, numbers
from pawline.config import MAX_WORKER_CONCURRENCY
from pawline.db import db
from pawline.doctor import run_checks
from pawline.errors import Refused
from pawline.proofs import render_sql
from pawline.queue_health import describe, queue_health

bp = Blueprint("cli", __name__, cli_group=None)


def _fail_on_domain_error(action):
    """Run `action`; a refused request prints its one-line reason and exits 1."""
    try:
        return action()
    except Refused as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None


@bp.cli.command("demo")
def demo_command():
    """Apply migrations and seed the demo organization (running it twice changes nothing)."""
    upgrade()
    created = demo.seed()
    click.echo("Seeded the demo organization." if created else "The demo organization exists.")
    click.echo("Start the dashboard:  flask --app app run   then open http://127.0.0.1:5000")
    for role, email in demo.SIGN_INS:
        click.echo(f"  {role:<6} {email}  password: {demo.PASSWORD}")


@bp.cli.command("create-org")
@click.argument("name")
@click.option("--slug", help="Short name in URLs and commands (default: from NAME).")
@click.option("--owner-email", required=True)
@click.option("--owner-password", required=True)
def create_org_command(name, slug, owner_email, owner_password):
    """Create an organization with its first owner; prints the slug."""
    org = _fail_on_domain_error(
        lambda: accounts.register_org(name, owner_email, owner_password, slug=slug))
    click.echo(org.slug)


@bp.cli.command("create-user")
@click.option("--org", "org_slug", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
# Roles and classes are checked by the domain, so a wrong one is refused in one line too.
@click.option("--role", required=True, help="owner, staff or sitter.")
def create_user_command(org_slug, email, password, role):
    """Create a user of an organization."""
    user = _fail_on_domain_error(lambda: accounts.add_user(org_slug, email, password, role))
    click.echo(f"Created {user.role} {user.email}.")


@bp.cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password", required=True)
def set_password_command(email, password):
    """Give a user a new password; every session of theirs ends."""
    user = _fail_on_domain_error(lambda: accounts.change_password(email, password))
    click.echo(f"New password for {user.email}; every session of theirs has ended.")


@bp.cli.command("set-role")
@click.option("--email", required=True)
@click.option("--role", required=True, help="owner, staff or sitter.")
def set_role_command(email, role):
    """Give a user another role; every session of theirs ends."""
    user = _fail_on_domain_error(lambda: accounts.change_role(email, role))
    click.echo(f"{user.email} is now {user.role}; every session of theirs has ended.")


@bp.cli.command("deactivate-user")
@click.option("--email", required=True)
@click.option("--undo", is_flag=True, help="Let the user sign in again.")
def deactivate_user_command(email, undo):
    """Stop a user signing in and end every session of theirs (--undo lets them back)."""
    user = _fail_on_domain_error(lambda: accounts.set_active(email, active=undo))
    click.echo(f"{user.email} can sign in again." if undo else
               f"{user.email} is deactivated; every session of theirs has ended.")


@bp.cli.command("add-number")
@click.argument("e164")
@click.option("--org", "org_slug", required=True)
@click.option("--class", "number_class", required=True, help="front_desk, pool or sitter.")
def add_number_command(e164, org_slug, number_class):
    """Add a masked number to an organization's pool."""

    def add():
        org = accounts.org_by_slug(org_slug)
        return numbers.add_number(org.id, e164, number_class, org.default_region)

    number = _fail_on_domain_error(add)
    click.echo(f"Added {number.e164} ({number.number_class}).")


@bp.cli.command("doctor")
@click.option("--full", is_flag=True,
              help="Also re-read every row (after a restore or a bulk load with triggers off).")
@click.option("--sql", "print_sql", is_flag=True,
              help="Print every proof query (--full's too) for psql instead of running them.")
def doctor_command(full: bool, print_sql: bool):
    """Prove every invariant holds (its constraint is in force); exit 1 if any is violated."""
    if print_sql:
        click.echo(render_sql(), nl=False)
        return
    results = run_checks(db.session.connection(), full=full)
    for result in results:
        mark = "ok  " if result.holds else "FAIL"
        click.echo(f"{mark} {result.check.invariant:<3} {result.check.claim}")
        for row in result.violations:
            click.echo(f"       violation: {row}")
    failed = sum(not r.holds for r in results)
    click.echo(f"{len(results) - failed} of {len(results)} checks hold.")
    health = queue_health(db.session.connection(),
                          current_app.config["JOB_STALLED_AFTER_SECONDS"])
    click.echo("Job queue:")
    for line in describe(health):
        click.echo(f"  {line}")
    for warning in health.warnings:
        click.echo(f"warn {warning}")
    click.echo("Database role:")
    role = db_roles.role_warnings(db.session.connection())
    for warning in role:
        click.echo(f"warn {warning}")
    if not role:
        click.echo("  the runtime role owns nothing and holds what the app needs, no more")
    if failed:
        raise SystemExit(1)


@bp.cli.command("grant-runtime-role")
@click.argument("role")
def grant_runtime_role_command(role: str):
    """Give ROLE exactly what the web and workers need on every table (run as the migration role,
    after each `db upgrade`): no ownership, no TRUNCATE, nothing that alters a table."""
    statements = _fail_on_domain_error(
        lambda: db_roles.grant_runtime_role(db.session.connection(), role))
    db.session.commit()
    click.echo(f"Granted {role} the runtime privileges on "
               f"{sum(s.startswith('GRANT') and ' ON TABLE ' in s for s in statements)} tables.")


@bp.cli.command("worker")
@click.option("--concurrency", type=click.IntRange(1, MAX_WORKER_CONCURRENCY), default=None,
              help="Jobs run at once, at most 15 (default WORKER_CONCURRENCY, 4).")
@click.option("--once", is_flag=True, help="Stop when no job is left instead of waiting.")
def worker_command(concurrency: int | None, once: bool):
    """Run background jobs (delivery, retries, MMS media fetches, periodic jobs) until stopped
    with Ctrl-C."""
    concurrency = concurrency or current_app.config["WORKER_CONCURRENCY"]
    click.echo(f"Worker taking jobs, {concurrency} at once.", err=True)
    jobs.run_worker(current_app._get_current_object(), concurrency, wait=not once)
