"""Sample inputs for the ingest tests: the reference examples (§1.3, §2.1, §2.2, §4.4), written by us."""

from __future__ import annotations

import json

WALKBY_TEXT = (
    "Nr odbiorcy;Adres;Nr wodomierza;Nr radiowy;Data odczytu;Stan [m3];Typ odczytu;Alarmy\r\n"
    "000871;ul. Łąkowa 5/2;00123456;36512345;26.10.2025 02:30;1 234,567;rzeczywisty;Wyciek (aktywny)\r\n"
    "000872;ul. Łąkowa 7;00123457;36512346;26.10.2025 02:31;  98,004;rzeczywisty;"
    '"Magnes (zapamiętany); Przepływ wsteczny"\r\n'
    "000873;ul. Polna 1;00099812;;26.10.2025;15,000;końcowy - demontaż;\r\n"
    "000873;ul. Polna 1;00131001;;26.10.2025;0,000;początkowy - montaż;\r\n"
)
WALKBY_CP1250 = WALKBY_TEXT.encode("cp1250")

WMBUS_KAMSTRUP = {
    "_": "telegram",
    "media": "cold water",
    "meter": "kamwater",
    "name": "ul_Lesna_12_m3",
    "id": "61234567",
    "total_m3": 412.083,
    "target_m3": 405.511,
    "flow_temperature_c": 9,
    "max_flow_m3h": 0.612,
    "status": "LEAK",
    "current_status": "LEAK",
    "time_dry": "",
    "time_reversed": "",
    "time_leaking": "2-3 days",
    "time_bursting": "",
    "timestamp": "2025-10-26T01:15:04Z",
    "device": "iu891a[00112233]",
    "rssi_dbm": -81,
}
WMBUS_KAMSTRUP_JSON = json.dumps(WMBUS_KAMSTRUP)
WMBUS_FIELDS_LINE = "61234567;412.083;LEAK;2025-10-26 02:15.04\n"

CHIRPSTACK_UP = {
    "deduplicationId": "5f0c2a9e-1111-4c2b-9d7e-0a1b2c3d4e5f",
    "time": "2025-10-26T01:30:12.418000000+00:00",
    "deviceInfo": {
        "tenantId": "0e6c1d9a-2222-4f0a-8a55-6b7c8d9e0f10",
        "tenantName": "Gmina Przykładowa",
        "applicationId": "a3b4c5d6-3333-4e7f-9a0b-1c2d3e4f5a6b",
        "applicationName": "wodomierze",
        "deviceProfileId": "b1c2d3e4-4444-4a5b-8c6d-7e8f9a0b1c2d",
        "deviceProfileName": "water-meter-eu868",
        "deviceName": "WM-0042",
        "devEui": "70b3d5ffee001234",
        "deviceClassEnabled": "CLASS_A",
        "tags": {"meter_serial": "23041234", "service_point": "PP-000871"},
    },
    "devAddr": "01ab23cd",
    "adr": True,
    "dr": 5,
    "fCnt": 1873,
    "fPort": 2,
    "confirmed": False,
    "data": "AQIDBAUGBwg=",
    "object": {
        "meter_serial": "23041234",
        "volume_m3": 1234.567,
        "meter_time": "2025-10-26T01:00:00Z",
        "alarms": {
            "leak": True,
            "burst": False,
            "backflow": False,
            "magnet": False,
            "removal": False,
            "dry": False,
            "battery_low": False,
        },
        "battery_pct": 87.0,
    },
    "rxInfo": [
        {
            "gatewayId": "0016c001ff10a2b3",
            "uplinkId": 40913,
            "nsTime": "2025-10-26T01:30:12.420Z",
            "rssi": -112,
            "snr": -3.5,
            "channel": 2,
            "crcStatus": "CRC_OK",
            "metadata": {"region_config_id": "eu868", "region_common_name": "EU868"},
        }
    ],
    "txInfo": {
        "frequency": 868500000,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 9, "codeRate": "CR_4_5"}},
    },
}

TTS_UP = {
    "end_device_ids": {
        "device_id": "wm-0042",
        "application_ids": {"application_id": "wodomierze-gmina"},
        "dev_eui": "70B3D5FFEE001234",
        "join_eui": "0000000000000000",
        "dev_addr": "260B1234",
    },
    "correlation_ids": ["as:up:01J…"],
    "received_at": "2025-03-30T00:45:03.991201Z",
    "uplink_message": {
        "f_port": 2,
        "f_cnt": 911,
        "frm_payload": "AQIDBAUGBwg=",
        "decoded_payload": {
            "meter_serial": "23041234",
            "volume_m3": 980.004,
            "alarms": {"leak": False, "backflow": True, "magnet": False},
            "battery_pct": 64,
        },
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "gw-wieza-cisnien", "eui": "B827EBFFFE001122"},
                "rssi": -109,
                "snr": -1.25,
                "channel_index": 4,
            }
        ],
        "settings": {
            "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 10}},
            "coding_rate": "4/5",
            "frequency": "867500000",
        },
        "received_at": "2025-03-30T00:45:03.780113Z",
        "consumed_airtime": "0.370688s",
    },
}
