"""Django-free parsers: CSV exports, the API's JSON, MQTT payloads → validated Arrow batches.

See :mod:`gmina.ingest.schema` for the contract with the store.
"""

from gmina.ingest.alarms import ALARM_TABLE_VERSION, AlarmCode, Flag, map_alarm_token, map_alarm_tokens
from gmina.ingest.api_json import parse_api_json, parse_api_json_messages
from gmina.ingest.chirpstack import parse_chirpstack_uplink
from gmina.ingest.csv_profiles import PROFILES, CsvProfile, ProfileError, load_profile
from gmina.ingest.csv_reader import read_csv
from gmina.ingest.schema import (
    READINGS_SCHEMA,
    REJECTIONS_SCHEMA,
    FileRejected,
    FlagState,
    ParsedBatch,
    ReadType,
    RefKind,
    RejectReason,
    TimeBasis,
)
from gmina.ingest.tts import parse_tts_uplink
from gmina.ingest.wmbusmeters import parse_wmbusmeters

__all__ = [
    "ALARM_TABLE_VERSION",
    "PROFILES",
    "READINGS_SCHEMA",
    "REJECTIONS_SCHEMA",
    "AlarmCode",
    "CsvProfile",
    "FileRejected",
    "Flag",
    "FlagState",
    "ParsedBatch",
    "ProfileError",
    "ReadType",
    "RefKind",
    "RejectReason",
    "TimeBasis",
    "load_profile",
    "map_alarm_token",
    "map_alarm_tokens",
    "parse_api_json",
    "parse_api_json_messages",
    "parse_chirpstack_uplink",
    "parse_tts_uplink",
    "parse_wmbusmeters",
    "read_csv",
]
