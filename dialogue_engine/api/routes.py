"""The route table: every endpoint with its handler, permission and schemas.

The same table builds Starlette's routes, the OpenAPI document and the
permission-matrix test. ``permission`` names what the caller needs on the
resource in the path:

- ``public``: nothing (no credentials read);
- ``user``: any authenticated caller;
- ``projects:create``: ``admin`` or ``projects:create``;
- ``project:read``: any grant inside the project (else 404);
- ``project:admin``: ``admin`` or ``project:admin`` on it (403 if it can see it);
- ``dialogue:read`` / ``dialogue:write``: read / write access to the dialogue
  (what cannot be read is 404; readable but not writable is 403);
- ``dialogue:publish``: ``project:admin`` (release a readable dialogue, else 403).
- ``admin``: the admin permission (else 403).
- ``user:self``: the user in the path itself, or an admin (else 404).
- ``permissions:read`` / ``permissions:grant``: the user itself, an admin, or any
  project admin (else 404), seeing the grants it could give; granting or
  revoking one it could not give is 403.
- ``channel:read`` / ``provider:read``: an admin, or a grant inside a project
  using the channel (one of the provider's channels), else 404;
  ``channel:admin``: admin (403 if the channel can be seen, else 404).
- ``template:read`` / ``template:write``: read / write the template in the path
  (a template of a project follows that project's permissions; one without is
  read by every caller and written by admins; unreadable is 404, readable but
  not writable 403);
- ``template:create``: write access to the body's ``project_id`` (admin without one).
- ``project:write``: ``admin``, ``project:admin`` or ``project:dialogues:write`` on the
  project (404 if it cannot see it, else 403): a project's participants.
- ``dialogue:execute`` / ``run:execute``: ``admin``, ``project:admin``,
  ``project:dialogues:execute`` or ``dialogue:execute`` on the dialogue in the path / the
  run's dialogue (404 if the project cannot be seen, else 403 without it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    accounts,
    audit,
    channels,
    dialogues,
    events,
    history,
    meta,
    participants,
    projects,
    releases,
    revisions,
    runs,
    sequences,
    templates,
    users,
)
from .requests import JSON_PATCH, Handler, endpoint

PROJECT = "/projects/{project_id}"
DIALOGUE = PROJECT + "/dialogues/{dialogue_id}"
USER = "/users/{user_id}"
CHANNEL = "/channels/{channel_id}"
PROVIDER = "/providers/{provider_id}"
SEQUENCE = DIALOGUE + "/sequences/{sequence_id}"
BLOCK = SEQUENCE + "/blocks/{block_id}"
PARTICIPANT = PROJECT + "/participants/{participant_id}"
ENROLMENT = SEQUENCE + "/participants/{participant_id}"
TEMPLATE = "/templates/{template_id}"
TEMPLATE_LOCALE = TEMPLATE + "/locales/{locale}"
PAGING = ("page", "per_page")
ORDERED_PAGING = (*PAGING, "ordering")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    permission: str
    summary: str
    request: str | None = None
    """Component schema of the request body (None: no body)."""
    response: str | None = None
    """Component schema of the success body (None: no body)."""
    status: int = 200
    query: tuple[str, ...] = ()
    media_type: str = "application/json"
    array: bool = False
    """The success body is an array of ``response`` (paged when ``page`` is in ``query``)."""
    cached_read: bool = False
    """A side-effect-free read tried on the event loop first (see ``requests.endpoint``)."""
    produces: str = "application/json"
    """The media type of the success body."""
    browser: bool = False
    """A page a browser opens: also takes a token from a query parameter or cookie."""


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", meta.healthz, "public", "Health check", response="Health"),
    Endpoint("GET", "/openapi.json", meta.openapi, "public", "This OpenAPI document",
             response="OpenAPIDocument"),
    Endpoint("POST", "/auth/tokens", accounts.create_token, "public",
             "Sign in: a bearer token", "Credentials", "IssuedToken", 201),
    Endpoint("GET", "/auth/tokens/{token_id}", accounts.get_token, "user",
             "One of the caller's tokens (without its secret)", response="Token"),
    Endpoint("DELETE", "/auth/tokens/{token_id}", accounts.revoke_token, "user",
             "Revoke one of the caller's tokens", response="Token"),
    Endpoint("GET", "/user", accounts.get_user, "user", "The authenticated user",
             response="User"),
    Endpoint("POST", "/user/api-keys", accounts.create_api_key, "user",
             "Create an API key (its secret is shown once)", "NewApiKey", "IssuedApiKey", 201),
    Endpoint("GET", "/user/api-keys/{key_id}", accounts.get_api_key, "user",
             "One of the caller's API keys (without its secret)", response="ApiKey"),
    Endpoint("DELETE", "/user/api-keys/{key_id}", accounts.revoke_api_key, "user",
             "Revoke one of the caller's API keys", response="ApiKey"),
    Endpoint("POST", "/user/password-changes/", users.change_password, "user",
             "Change the caller's password (the old one is needed)", "PasswordChange",
             status=204),
    Endpoint("GET", "/users/", users.list_users, "admin", "Every user",
             response="UserSummary", query=PAGING, array=True),
    Endpoint("POST", "/users/", users.create_user, "admin", "Create a user", "NewUser",
             "UserSummary", 201),
    Endpoint("GET", USER, users.get_user_by_id, "user:self", "A user",
             response="UserSummary"),
    Endpoint("PUT", USER, users.replace_user, "user:self",
             "Replace a user's names (the email is read-only)", "UserReplacement",
             "UserSummary"),
    Endpoint("PATCH", USER, users.patch_user, "user:self",
             "Patch a user's names (RFC 6902; the email is read-only)", "JsonPatch",
             "UserSummary", media_type=JSON_PATCH),
    Endpoint("POST", "/password-resets/", users.request_password_reset, "public",
             "Mail a reset token to the account with this email, if there is one "
             "(the answer is the same either way)", "PasswordReset", status=204),
    Endpoint("POST", "/password-confirmations/", users.confirm_password_reset, "public",
             "Set a new password with a mailed reset token (single use; ends the "
             "user's tokens)", "PasswordConfirmation", status=204),
    Endpoint("GET", USER + "/permissions/", users.list_permissions, "permissions:read",
             "The user's permissions the caller may see", response="Permission", array=True),
    Endpoint("POST", USER + "/permissions/", users.grant, "permissions:grant",
             "Grant a permission (admin: any; project admin: scoped to its projects)",
             "NewPermission", "Permission"),
    Endpoint("GET", USER + "/permissions/{permission_id}", users.get_permission,
             "permissions:read", "One of the user's permissions", response="Permission"),
    Endpoint("DELETE", USER + "/permissions/{permission_id}", users.revoke,
             "permissions:grant", "Revoke a permission; the revoked one is returned",
             response="Permission"),
    Endpoint("GET", "/channels/", channels.list_channels, "admin", "Every channel",
             response="Channel", query=PAGING, array=True),
    Endpoint("POST", "/channels/", channels.create_channel, "admin",
             "Create a channel of a provider (an extension of source 002)", "NewChannel",
             "Channel", 201),
    Endpoint("GET", CHANNEL, channels.get_channel, "channel:read", "A channel",
             response="Channel"),
    Endpoint("PUT", CHANNEL, channels.replace_channel, "channel:admin",
             "Set the project a channel serves (only project_id is written)",
             "ChannelReplacement", "Channel"),
    Endpoint("PATCH", CHANNEL, channels.patch_channel, "channel:admin",
             "Patch the project a channel serves (RFC 6902 on project_id)", "JsonPatch",
             "Channel", media_type=JSON_PATCH),
    Endpoint("GET", PROJECT + "/channels/", channels.project_channels, "project:read",
             "The channels serving a project", response="Channel", array=True),
    Endpoint("GET", "/providers/", channels.list_providers, "admin", "Every provider",
             response="ProviderSummary", query=PAGING, array=True),
    Endpoint("POST", "/providers/", channels.create_provider, "admin",
             "Create a provider (an extension of source 002)", "NewProvider", "Provider", 201),
    Endpoint("GET", PROVIDER, channels.get_provider, "provider:read",
             "A provider with the channels the caller may see", response="Provider"),
    Endpoint("GET", "/block-types/", meta.list_block_types, "user",
             "Registered block types and their JSON Schemas", response="BlockType", array=True),
    Endpoint("GET", "/projects/", projects.list_projects, "user",
             "Projects the caller can see", response="ProjectSummary", query=PAGING, array=True),
    Endpoint("POST", "/projects/", projects.create_project, "projects:create",
             "Create a project (the creator gets project:admin on it)",
             "NewProject", "Project", 201),
    Endpoint("GET", PROJECT, projects.get_project, "project:read", "A project",
             response="Project"),
    Endpoint("PUT", PROJECT, projects.replace_project, "project:admin", "Replace a project",
             "ProjectReplacement", "Project"),
    Endpoint("PATCH", PROJECT, projects.patch_project, "project:admin",
             "Patch a project (RFC 6902)", "JsonPatch", "Project", media_type=JSON_PATCH),
    Endpoint("GET", PROJECT + "/dialogues/", dialogues.list_dialogues, "project:read",
             "Dialogues of a project the caller can see", response="DialogueSummary",
             query=(*PAGING, *dialogues.FILTERS), array=True),
    Endpoint("POST", PROJECT + "/dialogues/", dialogues.create_dialogue, "dialogue:create",
             "Create a dialogue (its revision 1)", "NewDialogue", "Dialogue", 201),
    Endpoint("GET", DIALOGUE, dialogues.get_dialogue, "dialogue:read", "A dialogue",
             response="Dialogue", cached_read=True, query=("as_of",)),
    Endpoint("PUT", DIALOGUE, dialogues.replace_dialogue, "dialogue:write",
             "Replace a dialogue (an edit revision carrying the computed patch)",
             "DialogueReplacement", "Dialogue"),
    Endpoint("PATCH", DIALOGUE, dialogues.patch_dialogue, "dialogue:write",
             "Patch a dialogue (an edit revision carrying the patch)", "JsonPatch", "Dialogue",
             media_type=JSON_PATCH),
    Endpoint("GET", DIALOGUE + "/revisions/", revisions.list_revisions, "dialogue:read",
             "Revisions of a dialogue", response="Revision", query=ORDERED_PAGING, array=True),
    Endpoint("POST", DIALOGUE + "/revisions/", revisions.create_revisions, "dialogue:write",
             "Record a revision, or an array of them atomically", "NewRevisions",
             "RevisionOrRevisions", 201),
    Endpoint("GET", DIALOGUE + "/revisions/{revision_id}", revisions.get_revision,
             "dialogue:read", "A revision", response="Revision"),
    Endpoint("GET", DIALOGUE + "/revisions/{revision_id}/dialogue",
             revisions.get_revision_dialogue, "dialogue:read",
             "The dialogue as of a revision", response="Dialogue", cached_read=True),
    Endpoint("GET", DIALOGUE + "/releases/", releases.list_releases, "dialogue:read",
             "Releases of a dialogue", response="Release", query=ORDERED_PAGING, array=True),
    Endpoint("POST", DIALOGUE + "/releases/", releases.create_release, "dialogue:publish",
             "Release (publish) a revision", "NewRelease", "Release", 201),
    Endpoint("GET", DIALOGUE + "/releases/{release_id}", releases.get_release,
             "dialogue:read", "A release ('latest' names the newest)", response="Release"),
    Endpoint("GET", DIALOGUE + "/releases/{release_id}/dialogue",
             releases.get_release_dialogue, "dialogue:read",
             "The dialogue a release pinned ('latest': what end users meet)",
             response="Dialogue", cached_read=True),
    Endpoint("GET", DIALOGUE + "/verify", audit.verify_dialogue, "dialogue:read",
             "Recompute the hash chains of the dialogue and its releases; check its snapshots",
             response="ChainVerification"),
    Endpoint("GET", DIALOGUE + "/revisions/{revision_id}/diff", audit.diff_revisions,
             "dialogue:read",
             "The RFC 6902 patch from this revision's description to revision 'to' "
             "(default: the current one)", response="JsonPatch", query=("to",),
             produces=JSON_PATCH),
    Endpoint("GET", DIALOGUE + "/blame", audit.blame, "dialogue:read",
             "For the title, each sequence and each block: the revision that last changed it",
             response="Blame"),
    Endpoint("GET", DIALOGUE + "/sequences/{sequence_id}/blocks/{block_id}/history",
             audit.block_history, "dialogue:read",
             "Every revision that touched the block, with its value after each",
             response="BlockHistoryEntry", query=PAGING, array=True),
    Endpoint("GET", DIALOGUE + "/history", history.history_page, "dialogue:read",
             "The revision history as an HTML page, one revision side by side with the one "
             "before", response="HtmlPage", query=(*PAGING, "revision", "access_token"),
             produces="text/html", browser=True),
    Endpoint("GET", "/events", events.stream_events, "user",
             "Server-Sent Events of the revisions and releases the caller may see",
             response="EventStream", query=("after", "timeout"), produces="text/event-stream"),
    Endpoint("GET", DIALOGUE + "/releases/{release_id}/templates/{template_id}",
             templates.get_release_template, "dialogue:read",
             "A template version the release pinned, as it was when released",
             response="TemplateVersion"),
    Endpoint("POST", DIALOGUE + "/releases/{release_id}/templates/{template_id}/render",
             templates.render_release_template, "dialogue:read",
             "Render a template version the release pinned, as it was when released",
             "RenderRequest", "RenderedTemplate"),
    Endpoint("GET", "/templates", templates.list_templates, "user",
             "Templates the caller can read (filters: name contains, tag, locale)",
             response="Template", query=(*PAGING, *templates.LIST_FILTERS), array=True),
    Endpoint("POST", "/templates", templates.create_template, "template:create",
             "Create a template with its first (published) version",
             "NewTemplate", "CreatedTemplate", 201),
    *(
        endpoint
        for base, where in ((TEMPLATE, "default locale"), (TEMPLATE_LOCALE, "locale"))
        for endpoint in (
            Endpoint("GET", base, templates.get_template, "template:read",
                     f"A template and its versions in the {where}", response="Template"),
            Endpoint("PUT", base, templates.update_template, "template:write",
                     "Rename a template or replace its tags", "TemplateUpdate", "Success"),
            Endpoint("DELETE", base, templates.delete_template, "template:write",
                     "Delete a template (every locale)" if base == TEMPLATE
                     else "Delete one locale of a template", response="Success"),
            Endpoint("GET", base + "/versions", templates.list_versions, "template:read",
                     f"Versions of a template in the {where}, with html and text",
                     response="TemplateVersion", array=True),
            Endpoint("POST", base + "/versions", templates.create_version, "template:write",
                     f"Add a version in the {where} (published: true publishes it)",
                     "NewTemplateVersion", "TemplateVersion", 201),
            Endpoint("GET", base + "/versions/{version_id}", templates.get_version,
                     "template:read", f"A version in the {where}, with html and text",
                     response="TemplateVersion"),
            Endpoint("PUT", base + "/versions/{version_id}", templates.replace_version,
                     "template:write", f"Replace a version in the {where}",
                     "TemplateVersionReplacement", "TemplateVersion"),
            Endpoint("POST", base + "/versions/{version_id}/render", templates.render_version,
                     "template:read", f"Render a version in the {where} with template_data",
                     "RenderRequest", "RenderedTemplate"),
        )
    ),
    Endpoint("POST", TEMPLATE + "/locales", templates.add_locale, "template:write",
             "Add a locale with its first (published) version", "NewTemplateLocale",
             "CreatedTemplateLocale", 201),
    Endpoint("GET", "/sequences/search/", sequences.search_sequences, "user",
             "Search the sequences of every dialogue the caller can read (source 001)",
             response="SequenceSearchPage", query=sequences.SEARCH_QUERY),
    Endpoint("GET", DIALOGUE + "/sequences/", sequences.list_sequences, "dialogue:read",
             "Sequences of a dialogue, in order", response="SequenceResource", query=PAGING,
             array=True),
    Endpoint("POST", DIALOGUE + "/sequences/", sequences.create_sequence, "dialogue:write",
             "Add a sequence (a new_sequence revision)", "NewSequence", "SequenceResource",
             201),
    Endpoint("GET", SEQUENCE, sequences.get_sequence, "dialogue:read", "A sequence",
             response="SequenceResource"),
    Endpoint("PUT", SEQUENCE, sequences.replace_sequence, "dialogue:write",
             "Replace a sequence (an update_sequence revision)", "SequenceReplacement",
             "SequenceResource"),
    Endpoint("PATCH", SEQUENCE, sequences.patch_sequence, "dialogue:write",
             "Patch a sequence (RFC 6902; only block moves: a move_block revision)",
             "JsonPatch", "SequenceResource", media_type=JSON_PATCH),
    Endpoint("DELETE", SEQUENCE, sequences.delete_sequence, "dialogue:write",
             "Remove a sequence (409 while other blocks lead to it)",
             response="SequenceResource"),
    Endpoint("POST", SEQUENCE + "/duplicate-blocks/", sequences.duplicate_blocks,
             "dialogue:write",
             "Copy the blocks to a sequence of this or another dialogue, converting send dates",
             "DuplicateBlocks", "Duplication", 201),
    Endpoint("GET", SEQUENCE + "/blocks/", sequences.list_blocks, "dialogue:read",
             "Blocks of a sequence, in order", response="BlockResource", query=PAGING,
             array=True),
    Endpoint("POST", SEQUENCE + "/blocks/", sequences.create_block, "dialogue:write",
             "Add a block at the end of a sequence (a new_block revision)", "NewBlock",
             "BlockResource", 201),
    Endpoint("GET", BLOCK, sequences.get_block, "dialogue:read", "A block",
             response="BlockResource"),
    Endpoint("PUT", BLOCK, sequences.replace_block, "dialogue:write",
             "Replace a block (an update_block revision)", "BlockReplacement", "BlockResource"),
    Endpoint("DELETE", BLOCK, sequences.delete_block, "dialogue:write",
             "Remove a block (a remove_block revision)", response="BlockResource"),
    Endpoint("GET", PROJECT + "/participants/", participants.list_participants,
             "project:read", "The project's participants, oldest first",
             response="Participant", query=PAGING, array=True),
    Endpoint("POST", PROJECT + "/participants/", participants.create_participant,
             "project:write", "Add a participant (an end user of the project)",
             "NewParticipant", "Participant", 201),
    Endpoint("GET", PARTICIPANT, participants.get_participant, "project:read",
             "A participant", response="Participant"),
    Endpoint("PUT", PARTICIPANT, participants.replace_participant, "project:write",
             "Replace a participant", "ParticipantReplacement", "Participant"),
    Endpoint("PATCH", PARTICIPANT, participants.patch_participant, "project:write",
             "Patch a participant (RFC 6902)", "JsonPatch", "Participant",
             media_type=JSON_PATCH),
    Endpoint("DELETE", PARTICIPANT, participants.delete_participant, "project:write",
             "Delete a participant and its enrolments", response="Participant"),
    Endpoint("GET", SEQUENCE + "/participants/", participants.list_enrolments,
             "dialogue:read", "The sequence's users, earliest enrolled first",
             response="Enrolment", query=PAGING, array=True),
    Endpoint("POST", SEQUENCE + "/participants/", participants.enrol, "dialogue:write",
             "Enrol a participant of the project in the sequence (active)", "NewEnrolment",
             "Enrolment", 201),
    Endpoint("GET", ENROLMENT, participants.get_enrolment, "dialogue:read",
             "A participant's enrolment in the sequence", response="Enrolment"),
    Endpoint("PATCH", ENROLMENT, participants.patch_enrolment, "dialogue:write",
             "Set the enrolment's status (RFC 6902 on {status})", "JsonPatch", "Enrolment",
             media_type=JSON_PATCH),
    Endpoint("DELETE", ENROLMENT, participants.withdraw, "dialogue:write",
             "Withdraw the participant from the sequence", response="Enrolment"),
    Endpoint("POST", SEQUENCE + "/submit/", runs.submit, "dialogue:execute",
             "Start a run for each active participant on the latest release (409 if the "
             "dialogue was never released or the release lacks the sequence)",
             response="Submission", status=202),
    Endpoint("GET", PROJECT + "/runs/{run_id}", runs.get_run, "project:read",
             "A run: its position, answers and messages", response="Run"),
    Endpoint("POST", PROJECT + "/runs/{run_id}/replies/", runs.reply, "run:execute",
             "The participant's reply to the block the run waits at (409 if the run has "
             "ended or its participant is paused)", "Reply", "Run"),
    Endpoint("GET", PROJECT + "/outbox/", runs.outbox, "project:read",
             "Outbound messages, oldest first", response="OutboundMessage",
             query=(*PAGING, "participant_id", "channel_id"), array=True),
)  # fmt: skip


def build_routes(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> list[Route]:
    """One Starlette route per path (so 405 lists every allowed method).

    The same path with or without its trailing slash serves the same resource.
    Starlette tries routes in order, ~1 µs each, so the hot paths come first:
    one dialogue, then the deepest paths.
    """
    by_path: dict[str, dict[str, Endpoint]] = {}
    for item in endpoints:
        by_path.setdefault(item.path, {})[item.method] = item
    hot_first = sorted(by_path, key=lambda path: (path != DIALOGUE, -path.count("/")))
    routes = []
    for path in hot_first:
        methods = by_path[path]
        dispatch = _dispatcher(methods)
        alternate = path[:-1] if path.endswith("/") else path + "/"
        routes.append(Route(path, dispatch, methods=list(methods)))
        routes.append(Route(alternate, dispatch, methods=list(methods), include_in_schema=False))
    return routes


def _dispatcher(methods: dict[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
    handlers = {
        method: endpoint(
            item.handler,
            public=item.permission == "public",
            cached_read=item.cached_read,
            browser=item.browser,
        )
        for method, item in methods.items()
    }
    if "GET" in handlers:
        handlers["HEAD"] = handlers["GET"]

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    return dispatch
