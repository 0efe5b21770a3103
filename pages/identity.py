"""Identity rules: for each API, where its customer is when a call names none (core/identity.py),
shown and edited by the signed-in analyst; the keys mapped to customers are counted (they are
mapped with `footfall customers map`)."""

import streamlit as st

from db.reads import identity as identity_reads
from db.writes import edits
from ui import data
from ui.format import format_time, plain, plural
from ui.sidebar import current_view

view = current_view()
# The rules' syntax, drawn as code (st.code is no markdown: no `:word:` in it becomes an icon).
SYNTAX = """header:NAME       the request header NAME (for spans, the captured header)
jwt:CLAIM         a claim of the bearer JWT in Authorization, read without verifying it
key:NAME          an API key in the header NAME: its mapped customer, else key_ + a keyed fingerprint
key:query:NAME    an API key in the query parameter NAME, the same way
query:NAME        the query parameter NAME"""


def save_rules(api_id: int) -> None:
    """The Save button: the API's rules as typed, or why they cannot be, shown once on the run it starts."""
    try:
        data.write(edits.save_identity_rules, api_id, st.session_state[f"identity_rules_{api_id}"], view.analyst.key)
    except ValueError as error:
        st.session_state["_identity_outcome"] = (api_id, "refused", str(error))
    else:
        st.session_state["_identity_outcome"] = (api_id, "saved", "Saved: the running collector follows within seconds.")


st.title("Identity rules")
st.caption("When a call names no customer itself (treblle-user-id, treblle-metadata, data.metadata, a span's "
           "enduser.id), its API's rules say where the customer is, tried in order; a call none of them finds a "
           "customer in is unattributed. An API key counts under the customer it is mapped to (`footfall customers "
           "map API FILE.csv`), else under key_ and a keyed fingerprint of it: the key itself is never stored.")
st.code(SYNTAX, language=None)

apis = data.read(identity_reads.identity_rules)
if view.scope.api_id is not None:
    apis = apis.filter(apis["api_id"] == view.scope.api_id)
if apis.is_empty():
    st.info("No API yet: register one with `footfall apis add NAME`.")
outcome = st.session_state.pop("_identity_outcome", None)
for api in apis.iter_rows(named=True):
    api_id = api["api_id"]
    st.subheader(plain(api["api"]))
    st.text_area("Rules, one a line, tried in order", "\n".join(api["rules"]), key=f"identity_rules_{api_id}",
                 placeholder="header:x-customer-id\njwt:sub\nkey:x-api-key", height=120,
                 help="One rule a line, as above; no line: no rules.")
    st.button("Save rules", key=f"identity_save_{api_id}", icon=":material/save:", on_click=save_rules, args=(api_id,))
    if outcome is not None and outcome[0] == api_id:
        if outcome[1] == "saved":
            st.success(outcome[2], icon=":material/check_circle:")
        else:
            st.error(plain(outcome[2]), icon=":material/error:")  # it quotes the rule typed
    if api["rules"]:
        if api["set_by"] is None:
            who = "Set from the command line"
        else:  # "" is the one analyst of a dashboard without sign-in
            who = f"Set by {plain(api['set_by'])}" if api["set_by"] else "Set on the dashboard"
        st.caption(f"{who}, {format_time(api['set_at'])}.")
    else:
        st.caption("No rules: calls that name no customer are unattributed.")
    if api["mapped_keys"]:
        st.caption(f"{plural(api['mapped_keys'], 'API key')} mapped to customers.")
