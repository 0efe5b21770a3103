"""Secrets are masked before anything is stored: the rule name by name, near-misses included, and
every place a name is looked for (headers, URLs in headers, bodies at any depth, JSON and form
strings, query strings, multipart, XML and text bodies, errors, paths), with an operator's extra
names; and values masked by their shape (JWT, bearer credential, card number, random token)
wherever they are, while ids, timestamps and words are kept."""

import pickle

import orjson
import pytest

from core.masking import (
    MASK, MAX_DEPTH, NO_EXTRA_NAMES, Masking, mask_body, mask_headers, mask_path, mask_query, mask_shapes, masking_for,
)
from core.record import record_from_payload
from factories import payload

SECRET_NAMES = [
    # passwords
    "password", "passwd", "pwd", "pass", "pw", "new_password", "newPassword", "password_confirmation",
    "oldPwd", "passphrase", "passcode", "Passwort", "user[password]", "user%5Bpassword%5D", "one_time_password",
    # secrets and keys
    "secret", "secret_key", "secretKey", "client_secret", "clientSecret", "aws_secret_access_key",
    "AWS_SECRET_ACCESS_KEY", "webhook_secrets", "private_key", "privateKey", "signing_key", "encryption_key",
    "api_key", "apiKey", "APIKey", "apikey", "x-api-key", "X-Goog-Api-Key", "treblle-api-key", "api_keys",
    "access_key", "aws_access_key_id", "AccessKeyId", "hmac", "x-shopify-hmac-sha256",
    # tokens and sessions
    "token", "tokens", "access_token", "accessToken", "refresh_token", "id_token", "x-csrf-token",
    "X-Amz-Security-Token", "sessionToken", "session_token", "Session-Token", "X-Session-Token", "SESSION_TOKEN",
    "session", "sessions", "session_id", "sessionid", "PHPSESSID", "JSESSIONID", "jwt", "jwt_token", "oauth_token",
    "input_token",
    # signatures and credentials
    "sig", "req_sig", "signature", "X-Amz-Signature", "x-hub-signature-256", "stripe-signature", "oauth_signature",
    "X-Amz-Credential", "credential", "credentials",
    # authorization
    "authorization", "proxy-authorization", "Authorisation", "auth", "x-auth", "x-auth-token", "authToken",
    "HTTPAuthToken", "basic_auth", "authn", "authz", "x-authentication", "auth_url",
    # cookies
    "cookie", "set-cookie", "cookies",
    # one-time codes and PINs
    "otp", "OTP", "otp_code", "otpCode", "otpcode", "totp", "totp_secret", "hotp", "pin", "PIN", "card_pin",
    "new_pin", "pin_number", "userPin",
    # cards, identity, bank
    "card_number", "cardNumber", "credit_card_number", "cc_number", "ccNumber", "cardno", "card_no", "cc_num", "cc", "pan",
    "pan_number", "cvv", "cvc", "cvv2", "card_cvc", "cardCvv", "ccv", "ssn", "customer_ssn",
    "social_security_number", "iban", "customerIBAN", "credit_score",
    # one-time codes by their purpose, bearer credentials, subscription keys
    "verification_code", "securityCode", "backup_codes", "reset_code", "mfa_code", "bearer", "x-bearer",
    "subscription_key",
]

# Near-misses: ordinary names with a secret's letters in them, and names that only describe a secret.
ORDINARY_NAMES = [
    # "auth" inside another word: not the word auth
    "author", "author_id", "authority", "authored_at", "authenticated", "oauth_provider", "oauth", "www-authenticate",
    # the letters of a term inside an ordinary word, or across two words
    "description", "passenger", "passport", "compass", "bypass", "bypass_warning", "bypassWarning", "spin",
    "opinion", "pinned", "pinterest", "signup", "design", "signal", "sigma", "company", "expand", "panel",
    "classname", "class_name", "business", "card_notes", "footprint", "hotpath", "hotpink", "secretary", "undersecretary",
    # tokenizing is not a token
    "tokenizer", "tokenizer_version", "tokenized_card", "tokenization",
    # names that describe a secret: a descriptor after it, or a quantity before it
    "session_count", "sessionCount", "sessioncount", "max_sessions", "total_sessions", "password_policy",
    "password_min_length", "password_required", "token_type", "token_type_hint", "tokenExpiresIn",
    "token_expires_in", "session_ttl", "session_timeout", "auth_type", "authType", "auth_provider", "auth_method",
    "signature_method", "signature_version", "secret_version", "cookie_policy", "otp_enabled", "credential_type",
    "hmac_algorithm",
    # LLM usage counts
    "max_tokens", "total_tokens", "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
    "prompt_tokens_details", "reasoning_tokens",
    # a postal PIN code (India)
    "pin_code", "pincode", "PinCode",
    # presigned-URL parameters that are not secret
    "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Algorithm", "Key-Pair-Id",
    # codes that are not one-time secrets
    "country_code", "promo_code", "error_code", "status_code", "zip_code", "currency_code",
    # everyday names
    "key", "code", "sort_key", "name", "email", "id", "user_id", "content-type", "accept", "x-request-id", "user-agent",
    "treblle-user-id", "treblle-metadata", "etag", "location", "referer", "q", "page", "",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_name_is_masked(name):
    assert NO_EXTRA_NAMES.is_secret(name)
    assert mask_body({name: "v", "keep": "k"}) == {name: MASK, "keep": "k"}


@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_a_near_miss_is_not_masked(name):
    assert not NO_EXTRA_NAMES.is_secret(name)
    assert mask_body({name: "v"}) == {name: "v"}


def test_the_lists_do_not_overlap():
    assert not set(SECRET_NAMES) & set(ORDINARY_NAMES)


@pytest.mark.parametrize("variant", ["refresh_token", "refreshToken", "RefreshToken", "refresh-token", "Refresh-Token",
                                     "REFRESH_TOKEN", "refresh.token", "refresh token", "x-refresh-token"])
def test_snake_kebab_camel_and_upper_case_variants_are_one_name(variant):
    assert NO_EXTRA_NAMES.is_secret(variant)


def test_a_long_name_is_judged_by_its_first_200_characters():
    masking = Masking()
    assert masking.is_secret("password" + "x" * 500)
    assert not masking.is_secret("x" * 300 + "password")  # the secret word is past the cut
    assert masking.is_secret("x_" * 60 + "token")  # 125 characters: judged whole


def test_secret_headers_are_masked():
    masked = mask_headers({"authorization": "Bearer s", "cookie": "a=b", "set-cookie": "c", "x-api-key": "k",
                           "x-amz-security-token": "t", "accept": "*/*"})
    assert masked == {"authorization": MASK, "cookie": MASK, "set-cookie": MASK, "x-api-key": MASK,
                      "x-amz-security-token": MASK, "accept": "*/*"}


def test_secret_fields_are_masked_at_any_depth_in_bodies():
    body = {"user": {"email": "a@b.c", "password": "hunter2", "cards": [{"card_number": "4111", "brand": "visa"}]}}
    assert mask_body(body) == {"user": {"email": "a@b.c", "password": MASK, "cards": [{"card_number": MASK, "brand": "visa"}]}}


def test_a_secret_name_masks_a_whole_object_or_array():
    assert mask_body({"credentials": {"user": "u", "key": "k"}, "tokens": ["a", "b"], "n": 1}) == {
        "credentials": MASK, "tokens": MASK, "n": 1}


def test_an_ordinary_name_describing_a_secret_still_has_its_secret_fields_masked():
    assert mask_body({"password_policy": {"min_length": 8, "current_password": "x"}}) == {
        "password_policy": {"min_length": 8, "current_password": MASK}}


def test_camel_case_secret_fields_are_masked():
    assert mask_body({"cardNumber": "4111", "apiKey": "k", "clientSecret": "s", "name": "x"}) == {
        "cardNumber": MASK, "apiKey": MASK, "clientSecret": MASK, "name": "x"
    }


def test_a_body_without_secrets_comes_back_as_the_same_object():
    body = {"items": [{"id": 1, "tags": ["a", "b"], "price": {"amount": 5}}], "note": "{not json"}
    assert mask_body(body) is body


def test_a_body_nested_too_deep_to_judge_is_masked_below_the_limit():
    deep = orjson.loads("[" * 1000 + "]" * 1000)
    masked = mask_body(deep)
    orjson.dumps(masked)  # storable
    level, depth = masked, 0
    while isinstance(level, list):
        level, depth = level[0], depth + 1
    assert level == MASK and depth == MAX_DEPTH


def test_ordinary_fields_are_left_alone():
    assert mask_body({"passenger": "Ann", "description": "secretly fine"}) == {"passenger": "Ann", "description": "secretly fine"}


# --- strings holding JSON or form data ------------------------------------------------------------

def test_a_body_that_is_a_json_string_is_stored_as_the_masked_json():
    body = ' {"user": "ann", "password": "hunter2", "nested": [{"apiKey": "k1"}]} '
    assert mask_body(body) == {"user": "ann", "password": MASK, "nested": [{"apiKey": MASK}]}
    assert mask_body('[{"token": "t"}, 2]') == [{"token": MASK}, 2]
    assert mask_body('{"user": "ann"}') == {"user": "ann"}  # stored as JSON, secrets or not


def test_a_json_string_inside_a_body_is_masked_inside_and_stays_a_string():
    body = {"event": "login", "payload": '{"password": "hunter2", "user": "ann"}', "plain": '{"user": "ann"}'}
    masked = mask_body(body)
    assert orjson.loads(masked["payload"]) == {"password": MASK, "user": "ann"}
    assert masked["plain"] is body["plain"] and masked["event"] == "login"


def test_a_form_encoded_body_keeps_its_text_with_secret_values_masked():
    body = "grant_type=client_credentials&client_id=app&client_secret=cs_live_123&password=p%40ss&scope="
    assert mask_body(body) == f"grant_type=client_credentials&client_id=app&client_secret={MASK}&password={MASK}&scope="
    assert mask_body("user%5Bpassword%5D=x&user%5Bname%5D=ann") == f"user%5Bpassword%5D={MASK}&user%5Bname%5D=ann"


def test_a_text_body_without_secrets_is_kept_as_is():
    for text in ["hello", "password is hunter2", "<xml><user>ann</user></xml>", "{not json", "q=' or 1=1--", "",
                 "Bearer tokens expire after an hour", "order 2024-11-20T12:00:00Z shipped to +1 415 555 0100"]:
        assert mask_body(text) == text


# --- query strings and URLs in headers ------------------------------------------------------------

def test_secret_query_parameters_are_masked():
    assert mask_query("q=shoes&api_key=abc&token=t") == f"q=shoes&api_key={MASK}&token={MASK}"


def test_a_presigned_url_query_masks_the_signature_credential_and_token_only():
    query = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261120%2Fus-east-1%2Fs3"
             "&X-Amz-Date=20261120T120000Z&X-Amz-Expires=900&X-Amz-Security-Token=FwoGZX&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=abcdef0123")
    assert mask_query(query) == (
        f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={MASK}&X-Amz-Date=20261120T120000Z&X-Amz-Expires=900"
        f"&X-Amz-Security-Token={MASK}&X-Amz-SignedHeaders=host&X-Amz-Signature={MASK}")


@pytest.mark.parametrize("query, expected", [
    ("sig=abc==&sv=2024&se=2026", f"sig={MASK}&sv=2024&se=2026"),  # Azure SAS; "=" inside a value
    ("signature=s&Key-Pair-Id=K1&Policy=p", f"signature={MASK}&Key-Pair-Id=K1&Policy=p"),  # CloudFront
    ("access_token=a&apikey=b&page=2", f"access_token={MASK}&apikey={MASK}&page=2"),
    ("debug&token=t&&q=", f"debug&token={MASK}&&q="),  # flags and empty pairs kept
    ("access%5Ftoken=a", f"access%5Ftoken={MASK}"),
    ("q=a+b&limit=20", "q=a+b&limit=20"),
    ("", ""),
])
def test_query_strings(query, expected):
    assert mask_query(query) == expected


def test_urls_in_url_valued_headers_have_their_secret_parameters_masked():
    headers = {
        "referer": "https://app.example.com/reset?token=rst_1&step=2#top",
        "location": "https://bucket.s3.amazonaws.com/f.pdf?X-Amz-Signature=abc&X-Amz-Expires=60",
        "content-location": "/api/items?api_key=k&page=1",
        "link": '<https://api.example.com/items?page=2&access_token=at_1>; rel="next", '
                '<https://api.example.com/items?page=9&access_token=at_1>; rel="last"',
        "x-original-url": "/callback?code=c&state=s&sig=x",
        "origin": "https://app.example.com",
        "accept": "*/*",
    }
    assert mask_headers(headers) == {
        "referer": f"https://app.example.com/reset?token={MASK}&step=2#top",
        "location": f"https://bucket.s3.amazonaws.com/f.pdf?X-Amz-Signature={MASK}&X-Amz-Expires=60",
        "content-location": f"/api/items?api_key={MASK}&page=1",
        "link": f'<https://api.example.com/items?page=2&access_token={MASK}>; rel="next", '
                f'<https://api.example.com/items?page=9&access_token={MASK}>; rel="last"',
        "x-original-url": f"/callback?code={MASK}&state=s&sig={MASK}",
        "origin": "https://app.example.com",
        "accept": "*/*",
    }


def test_header_values_holding_json_or_several_values_are_masked_inside():
    masked = mask_headers({"x-context": '{"user": "ann", "sessionToken": "st"}', "treblle-metadata": '{"user-id": "c1"}',
                           "x-links": ["https://a.example/?token=t", "plain"]})
    assert orjson.loads(masked["x-context"]) == {"user": "ann", "sessionToken": MASK}
    assert masked["treblle-metadata"] == '{"user-id": "c1"}'
    assert masked["x-links"] == [f"https://a.example/?token={MASK}", "plain"]


# --- an operator's extra names --------------------------------------------------------------------

def test_an_operator_s_extra_names_are_masked_in_every_spelling_and_place():
    masking = Masking(("x-internal-ref", "customer_ref", "Loyalty Number"))
    assert masking.names == ("x-internal-ref", "customer_ref", "loyalty number")
    for name in ("customer_ref", "customerRef", "Customer-Ref", "x-internal-ref", "X-Internal-Ref", "loyaltyNumber"):
        assert masking.is_secret(name), name
    for name in ("customer_reference", "ref", "customer", "loyalty"):
        assert not masking.is_secret(name), name
    assert masking.body({"order": {"customerRef": "CR-1", "id": 1}}) == {"order": {"customerRef": MASK, "id": 1}}
    assert masking.headers({"x-internal-ref": "r", "accept": "*/*"}) == {"x-internal-ref": MASK, "accept": "*/*"}
    assert masking.query("customer_ref=CR-1&q=x") == f"customer_ref={MASK}&q=x"
    assert masking.body("customer_ref=CR-1&q=x") == f"customer_ref={MASK}&q=x"
    assert not NO_EXTRA_NAMES.is_secret("customer_ref")  # only where the operator asked


def test_names_given_as_one_string_are_comma_separated_as_in_the_setting():
    assert Masking(" Customer_Ref, x-internal-ref,,") == Masking(("customer_ref", "x-internal-ref"))


def test_an_operator_s_name_masks_even_a_name_that_only_describes_a_secret():
    assert Masking(("session_count",)).is_secret("sessionCount")


def test_a_masking_pickles_to_this_process_s_one_masking_of_its_names():
    masking = Masking(("customer_ref",))
    copy = pickle.loads(pickle.dumps(masking))
    assert copy == masking and copy is masking_for(("customer_ref",)) and copy.is_secret("customerRef")
    assert pickle.loads(pickle.dumps(Masking())) is NO_EXTRA_NAMES


# --- in the stored record -------------------------------------------------------------------------

def test_the_record_is_masked_with_the_operator_s_names_and_the_threat_detector_still_sees_injection():
    call = payload(
        url="https://api.example.com/api/login?next=%2Fhome&customer_ref=CR-9&access_token=at_9",
        method="POST", body="username=admin%27%20OR%201%3D1--&password=hunter2&customer_ref=CR-9",
        response_headers={"location": "https://app.example.com/welcome?sessionToken=st_9"},
    )
    record = record_from_payload(call, received_at=0, masking=Masking(("customer_ref",)))
    stored = " ".join(map(str, record))
    for secret in ("CR-9", "at_9", "hunter2", "st_9", "SECRET-token"):
        assert secret not in stored
    assert record.query == f"next=%2Fhome&customer_ref={MASK}&access_token={MASK}"
    assert "admin%27%20OR%201%3D1--" in record.request_body
    assert record.threat_level == "high" and "SQL injection pattern in body" in record.threat_reasons


# --- names by where they are ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Ocp-Apim-Subscription-Key", "x-functions-key", "X-RapidAPI-Key", "x-client-key"])
def test_a_header_whose_last_word_is_key_is_masked_but_not_an_idempotency_or_public_key(name):
    kept = {"idempotency-key": "order-7f3a", "x-public-key": "pk_1"}
    assert mask_headers({name: "k_7f3a9c", **kept}) == {name: MASK, **kept}


def test_key_and_code_are_secret_as_query_and_form_parameters_but_not_as_body_fields():
    assert mask_query("key=AIzaSyD9&code=4/0AX4&bearer=b_1&q=shoes&country_code=US") == (
        f"key={MASK}&code={MASK}&bearer={MASK}&q=shoes&country_code=US")
    assert mask_body("code=4/0AX4&grant_type=authorization_code") == f"code={MASK}&grant_type=authorization_code"
    assert mask_body({"key": "color", "code": "not_found"}) == {"key": "color", "code": "not_found"}


# --- secrets by their shape -----------------------------------------------------------------------

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
       ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
RANDOM_TOKEN = "q7Rt2KpX9vLm4NbZ8wYc3HsJ6dFg1Ue5Wa0Ti"  # 37 characters, as secrets.token_urlsafe makes them
UUID = "550e8400-e29b-41d4-a716-446655440000"
EPOCH_MS = 1732104000002  # 13 digits, Luhn-valid, but starting with 1: a timestamp


@pytest.mark.parametrize("text, expected", [
    (JWT, MASK),
    (f"invalid token {JWT} for user 7", f"invalid token {MASK} for user 7"),
    ("Bearer up_7f3a9c2e1b", f"Bearer {MASK}"),
    ("retry with bearer AbCdEfGhIjKlMnOpQrStUv", f"retry with bearer {MASK}"),
    ("Basic dXNlcjpodW50ZXIy", f"Basic {MASK}"),  # user:hunter2
    ("4111111111111111", MASK),
    ("card 4111 1111 1111 1111 was declined", f"card {MASK} was declined"),
    ("4111111111111111,12/26,737", f"{MASK},12/26,737"), ("paid with 4111111111111111.", f"paid with {MASK}."),
    ("5555-5555-5555-4444", MASK),
    ("378282246310005", MASK),  # Amex, 15 digits
    (RANDOM_TOKEN, MASK),
    (f"use {RANDOM_TOKEN}.", f"use {MASK}."), (f"session={RANDOM_TOKEN}", f"session={MASK}"),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", MASK),  # standard base64: slashes in it
])
def test_a_secret_is_masked_by_its_shape(text, expected):
    assert mask_shapes(text) == expected


@pytest.mark.parametrize("text", [
    UUID, "550e8400e29b41d4a716446655440000",  # UUIDs: ids analysts search by
    "507f1f77bcf86cd799439011",  # Mongo ObjectId
    "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed",  # hex of a hash
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",  # ULID
    "cus_NffrFeUfNV2Hib",  # a prefixed id
    "4111111111111112",  # fails the Luhn check
    str(EPOCH_MS), "ts 1732104000002009", "20261120120000128",  # epoch ms and µs, a compact timestamp (all Luhn-valid)
    "+14155550100123", "+1 (415) 555-0100", "0.4242424242424242",  # phone numbers, a decimal
    "2026-11-20T12:00:00.000Z",
    "getUserProfileByIdAndOrganization2", "ImportantAnnouncementAboutQ3Results2024",
    "/Users/JohnDoe/Projects/api2/src/Controllers/UserController.php",
    "vendor/laravel/framework/src/Illuminate/Database/Connection2.php",
    "getting-started-with-the-new-api-v2-2024",
    "Bearer tokens expire after an hour", "Basic plan", "X-Amz-Algorithm-AWS4-HMAC-SHA256",
])
def test_ids_timestamps_phone_numbers_paths_and_words_are_not_secret_shapes(text):
    assert mask_shapes(text) == text


def test_shapes_are_masked_in_body_values_at_any_depth_and_a_card_number_as_an_integer_too():
    body = {"note": JWT, "payment": {"number": "4111111111111111", "last": 5555555555554444}, "items": [RANDOM_TOKEN],
            "order_id": UUID, "created_ms": EPOCH_MS, "callback": "https://bob:hunter2@app.example.com/cb?token=t_9"}
    assert mask_body(body) == {"note": MASK, "payment": {"number": MASK, "last": MASK}, "items": [MASK],
                               "order_id": UUID, "created_ms": EPOCH_MS,
                               "callback": f"https://{MASK}@app.example.com/cb?token={MASK}"}


def test_a_header_holding_a_credential_keeps_only_its_scheme():
    masked = mask_headers({
        "x-upstream": "Bearer up_7f3a9c2e1b", "x-proxy": "Basic dXNlcjpodW50ZXIy", "x-forwarded-request":
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=5d67",
        "x-plan": "Basic tier", "x-trace": JWT})
    assert masked == {"x-upstream": f"Bearer {MASK}", "x-proxy": f"Basic {MASK}",
                      "x-forwarded-request": f"AWS4-HMAC-SHA256 {MASK}", "x-plan": "Basic tier", "x-trace": MASK}


def test_a_url_s_user_information_and_token_path_are_masked_in_headers():
    masked = mask_headers({"referer": "https://bob:hunter2@app.example.com/start?step=2",
                           "location": "https://app.example.com/password/reset/Xk29sLpQmZ8rTvB4nWcY?lang=en",
                           "content-location": f"/v1/verify/{JWT}"})
    assert masked == {"referer": f"https://{MASK}@app.example.com/start?step=2",
                      "location": f"https://app.example.com/password/reset/{MASK}?lang=en",
                      "content-location": f"/v1/verify/{MASK}"}


# --- query strings ---------------------------------------------------------------------------------

def test_semicolon_separated_query_pairs_are_masked_and_kept_as_sent():
    assert mask_query("a=1;token=t;b=2&sig=s") == f"a=1;token={MASK};b=2&sig={MASK}"


def test_a_query_value_holding_a_secret_shape_is_masked_even_percent_encoded():
    assert mask_query(f"q=shoes&t={JWT}") == f"q=shoes&t={MASK}"
    assert mask_query("q=shoes&next=%2Fcb%3Ftoken%3D" + JWT) == f"q=shoes&next={MASK}"


def test_a_query_sent_as_an_object_is_masked_inside_its_json_values():
    call = payload(url="https://api.example.com/api/search")
    call["data"]["request"]["query"] = {"q": "shoes", "filter": {"access_token": "at_9", "size": 2}}
    record = record_from_payload(call, received_at=0)
    assert record.query == f'q=shoes&filter={{"access_token":"{MASK}","size":2}}'


# --- text bodies: form, multipart, XML, free text ------------------------------------------------------

def test_a_form_body_with_spaces_in_its_values_keeps_its_text_with_secret_values_masked():
    assert mask_body("username=ann lee&password=correct horse battery") == f"username=ann lee&password={MASK}"


def test_a_multipart_body_masks_the_values_of_its_secret_parts():
    body = ('--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nann\r\n'
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n'
            '--b\r\nContent-Disposition: form-data; name="code"\r\nContent-Type: text/plain\r\n\r\n4/0AX4\r\n--b--\r\n')
    assert mask_body(body) == body.replace("hunter2", MASK).replace("4/0AX4", MASK)


def test_an_xml_body_masks_its_secret_elements_and_attributes():
    body = ('<soap:Envelope><soap:Header><wsse:UsernameToken><wsse:Username>ann</wsse:Username>'
            '<wsse:Password Type="PasswordText">hunter2</wsse:Password></wsse:UsernameToken></soap:Header>'
            '<soap:Body><login session_token="st_9" lang="en"><apiKey><![CDATA[k_9]]></apiKey></login></soap:Body>'
            '</soap:Envelope>')
    assert mask_body(body) == (body.replace(">hunter2<", f">{MASK}<").replace('"st_9"', f'"{MASK}"')
                               .replace("<![CDATA[k_9]]>", MASK))


def test_free_text_masks_secret_name_value_pairs_urls_and_shapes():
    text = f'login failed: password=hunter2 user=ann, "api_key": "k_9", db postgres://app:s3cret@db:5432/app, {JWT}'
    assert mask_body(text) == (f'login failed: password={MASK} user=ann, "api_key": "{MASK}",'
                               f' db postgres://{MASK}@db:5432/app, {MASK}')


# --- errors and paths ----------------------------------------------------------------------------------

def test_errors_are_masked_by_name_and_their_text_by_pairs_urls_and_shapes():
    errors = [{"message": f"invalid token {JWT}; retry with password=hunter2", "type": "AuthError", "line": 42,
               "file": "/app/src/Auth.php", "context": {"api_key": "k_9", "url": "https://bob:pw@x.example/cb?code=c_9"}}]
    assert NO_EXTRA_NAMES.errors(errors) == [
        {"message": f"invalid token {MASK}; retry with password={MASK}", "type": "AuthError", "line": 42,
         "file": "/app/src/Auth.php", "context": {"api_key": MASK, "url": f"https://{MASK}@x.example/cb?code={MASK}"}}]


@pytest.mark.parametrize("path, expected", [
    ("/v1/password/reset/Xk29sLpQmZ8rTvB4nWcY", f"/v1/password/reset/{MASK}"),
    (f"/v1/verify/{JWT}", f"/v1/verify/{MASK}"),
    ("/reset/MQ/c2z3l1-3e1f3b1c6b2f0e9b8a7d", f"/reset/MQ/{MASK}"),  # Django: the user's id, then the token
    ("/api/invitations/8f14e45fceea167a5a36dedd4bea2543/accept", f"/api/invitations/{MASK}/accept"),
    (f"/api/keys/{UUID}", f"/api/keys/{MASK}"),  # a UUID right after a secret word is a token
    (f"/files/{RANDOM_TOKEN}.pdf", f"/files/{MASK}.pdf"),
    ("/cards/4111111111111111/charges", f"/cards/{MASK}/charges"),
])
def test_token_like_path_segments_are_masked(path, expected):
    assert mask_path(path) == expected


@pytest.mark.parametrize("path", [
    "/api/items/42", f"/api/orders/{UUID}", "/users/507f1f77bcf86cd799439011/sessions", "/verify/482913",
    "/password/reset/done", "/auth/users/cus_NffrFeUfNV2Hib", "/api/keys/key_12345",
    "/docs/getting-started-with-the-api-2024",
])
def test_ids_and_words_in_paths_are_kept(path):
    assert mask_path(path) == path


def test_the_record_stores_the_path_masked_its_errors_masked_and_names_the_endpoint_with_a_placeholder():
    call = payload(url=f"https://api.example.com/v1/verify/{JWT}?lang=en",
                   errors=[{"message": f"bad token {JWT}", "password": "hunter2", "context": {"apiKey": "k_9"}}])
    record = record_from_payload(call, received_at=0)
    assert (record.path, record.endpoint) == (f"/v1/verify/{MASK}", "/v1/verify/{token}")
    assert orjson.loads(record.errors) == [{"message": f"bad token {MASK}", "password": MASK, "context": {"apiKey": MASK}}]


def test_the_threat_detector_reads_the_query_and_a_text_body_as_sent():
    call = payload(url="https://api.example.com/api/login?code=%27%20OR%201%3D1--", method="POST",
                   body="<login><user>ann</user><password>' OR '1'='1</password></login>")
    record = record_from_payload(call, received_at=0)
    assert record.query == f"code={MASK}" and MASK in record.request_body and "OR" not in record.request_body
    assert "SQL injection pattern in query" in record.threat_reasons
    assert "SQL injection pattern in body" in record.threat_reasons


def test_errors_nested_too_deep_to_judge_are_stored_masked_below_the_limit_as_a_body_is():
    call = payload(errors=[{"message": "boom", "trace": orjson.loads("[" * 300 + "]" * 300)}])
    stored = record_from_payload(call, received_at=0).errors
    assert stored.count("[") <= MAX_DEPTH and f'"{MASK}"' in stored  # cut at the limit, not refused
