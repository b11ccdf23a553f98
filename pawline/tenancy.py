"""Every organization sees only itself: one ORM hook scopes every SELECT to the session's org.

The web layer calls `scope_session(org_id)` once per signed-in request; from then on every ORM
query of a TenantScoped model, joins and relationship loads included, gets `org_id = :org`
appended, so a view cannot forget it. Domain functions still take `org_id` explicitly, and the
composite foreign keys (I4) stop a write from crossing organizations.
"""

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from pawline.models import TenantScoped

_KEY = "org_id"


def scope_session(session, org_id: int) -> None:
    """Limit every ORM SELECT in this session to `org_id`."""
    session.info[_KEY] = org_id


def session_org(session) -> int | None:
    """The organization this session is scoped to, if any."""
    return session.info.get(_KEY)


@event.listens_for(Session, "do_orm_execute")
def _only_this_organization(state: ORMExecuteState) -> None:
    org_id = state.session.info.get(_KEY)
    if org_id is None or not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.org_id == org_id, include_aliases=True)
    )
