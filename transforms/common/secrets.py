"""Credentials out of what warcforge writes and logs: run_info.json, progress lines, failed-shard records.

Outputs are meant to be shared, so a credential handed to a run (a Beam option such as
``--s3_secret_access_key``, a presigned input URL, an Azure connection string) must not reach them.
Two rules, applied to option dicts, command lines and free text alike:

- **By name.** A value is replaced whole when its name (a flag, an option, a query parameter, a
  connection-string part) has a word that names a credential: ``secret``, ``password``/``passwd``/
  ``pwd``/``passphrase``, ``token``, ``key`` (``s3_access_key_id``, ``AccountKey``, ``apiKey``),
  ``credential(s)``, ``signature``/``sig``, ``sas``, ``private``, ``auth``/``authorization``, or is
  ``connection_string``/``gbek`` (Beam's GroupByKey encryption secret). Identities are not
  credentials and stay readable: ``service_account_email``, ``impersonate_service_account``,
  ``azure_managed_identity_client_id``, ``hdfs_user``, ``project``; so does ``dataflow_kms_key``,
  the *name* of a Cloud KMS key (``projects/.../cryptoKeys/...``), not key material. Values that are
  not text (``--no_auth``, ``--enable_hot_key_logging``) are on/off switches and stay as they are.
- **By shape**, whatever the name: a URL's userinfo (``https://user:pass@host/`` becomes
  ``https://<redacted>@host/``), a query parameter named as above (``X-Amz-Signature``,
  ``X-Amz-Credential``, ``X-Amz-Security-Token``, ``X-Goog-Signature``, Azure SAS ``sig``, ``token``,
  ``access_token``, ``key``), and a ``Name=value;`` part named as above (``AccountKey=``,
  ``SharedAccessSignature=``, ``Password=``). A SAS's ``sv``/``se``/``sp``/``st``/``spr`` (version,
  expiry, permissions) are not secret: without ``sig`` they grant nothing, and they say what was granted.

Rules only: no I/O, no Beam. Redacting returns new values and never changes what it is given.
"""

import re

REDACTED = "<redacted>"

# Words that name a credential when a name's word equals them or, for the longer ones, ends with them
# ("apikey", "accesstoken", "clientsecret").
_CREDENTIAL_SUFFIXES = ("secret", "password", "passwd", "passphrase", "token", "key", "credential", "credentials",
                        "signature")
_CREDENTIAL_WORDS = frozenset({"sig", "sas", "pwd", "auth", "authorization", "private", "gbek"})
_CREDENTIAL_PHRASES = ("connection_string", "connectionstring")
# Names that match a word above but hold a name or an identity, not key material.
_NOT_CREDENTIALS = frozenset({"dataflow_kms_key"})

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# scheme://userinfo@ : the userinfo runs to the last "@" before the host's "/", "?" or "#".
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#\s]+)@")
# Name=value parts of a connection string: at the start of the text or after ";", value up to the next ";".
_CONNECTION_PART = re.compile(r"(^|;)(\s*)([A-Za-z][\w .\-]*?)(\s*)=([^;]*)")
# ?name=value and &name=value; the value stops where a URL's query or a sentence would.
_QUERY_PARAMETER = re.compile(r"([?&])([^=&#\s;?]+)=([^&#\s;'\"<>]*)")


def _normalized(name: str) -> str:
    return name.lstrip("-").replace("-", "_").lower()


def is_secret_name(name: str) -> bool:
    """Whether a flag, option, query parameter or connection-string part of this name holds a credential."""
    normalized = _normalized(name)
    if normalized in _NOT_CREDENTIALS:
        return False
    if any(phrase in normalized for phrase in _CREDENTIAL_PHRASES):
        return True
    words = [word.lower() for word in _WORD.findall(name)]
    return any(word in _CREDENTIAL_WORDS or word.endswith(_CREDENTIAL_SUFFIXES) for word in words)


def _redact_connection_part(match: re.Match) -> str:
    start, space_before, name, space_after, value = match.groups()
    if not is_secret_name(name) or not value:
        return match.group(0)
    return f"{start}{space_before}{name}{space_after}={REDACTED}"


def _redact_query_parameter(match: re.Match) -> str:
    separator, name, value = match.groups()
    if not is_secret_name(name) or not value:
        return match.group(0)
    # "url?sig=...: HTTP 404" is how errors name a URL: keep the colon that ends it.
    colon = ":" if value.endswith(":") else ""
    return f"{separator}{name}={REDACTED}{colon}"


def redact_text(text: str) -> str:
    """``text`` (a URL, a path, a connection string, an error message) with any credential it embeds redacted."""
    text = _CONNECTION_PART.sub(_redact_connection_part, text)
    text = _QUERY_PARAMETER.sub(_redact_query_parameter, text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (list, tuple)):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return redact_options(value)
    return value


def redact_options(options: dict) -> dict:
    """Pipeline options (``PipelineOptions.get_all_options()``) fit to publish: credential values redacted."""
    redacted = {}
    for name, value in options.items():
        holds_text = isinstance(value, (str, list, tuple, dict)) and bool(value)
        redacted[name] = REDACTED if holds_text and is_secret_name(str(name)) else _redact_value(value)
    return redacted


def redact_argv(argv: list[str]) -> list[str]:
    """A command line fit to publish: ``--secret=value`` and ``--secret value`` lose the value, and every
    other argument loses any credential it embeds."""
    redacted: list[str] = []
    value_of_secret_flag = False
    for arg in argv:
        if value_of_secret_flag and not arg.startswith("-"):
            redacted.append(REDACTED)
            value_of_secret_flag = False
            continue
        value_of_secret_flag = False
        if arg.startswith("-"):
            flag, equals, value = arg.partition("=")
            if is_secret_name(flag):
                redacted.append(f"{flag}={REDACTED}" if equals else flag)
                value_of_secret_flag = not equals
                continue
            if equals:
                redacted.append(f"{flag}={redact_text(value)}")
                continue
        redacted.append(redact_text(arg))
    return redacted


def redact_message(message: str, *urls: str) -> str:
    """An error message about ``urls`` without credentials, on one line: URLs redacted, and each URL's user and
    password wherever the message quotes them without a scheme (botocore names the "bucket" ``user:pass@bucket``)."""
    for url in urls:
        for userinfo in re.findall(r"://([^/?#\s]+)@", url):
            message = message.replace(userinfo, REDACTED)
    return " ".join(redact_text(message).split())
