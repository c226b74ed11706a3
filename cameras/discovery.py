"""WS-Discovery: find ONVIF cameras on the local network with a multicast Probe.

``discover(timeout_s)`` sends one Probe for ``dn:NetworkVideoTransmitter`` to 239.255.255.250:3702
(TTL 1: it never leaves the local segment) and collects the ProbeMatch replies until the timeout.
A raw UDP socket rather than the ``wsdiscovery`` package: that package skips loopback interfaces, and
a probe is one datagram.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

MULTICAST = ("239.255.255.250", 3702)
PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:dn="http://www.onvif.org/ver10/network/wsdl">
 <s:Header>
  <a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>
  <a:MessageID>urn:uuid:{message_id}</a:MessageID>
  <a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
  <a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>
 </s:Header>
 <s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>
</s:Envelope>"""


@dataclass
class DiscoveredDevice:
    """One ProbeMatch: where the device's ONVIF service is and what its scopes say."""

    address: str  # the replying IP
    xaddrs: list[str]
    scopes: list[str] = field(default_factory=list)
    endpoint: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.xaddrs[0]).hostname or self.address if self.xaddrs else self.address

    @property
    def port(self) -> int:
        if self.xaddrs:
            parts = urlsplit(self.xaddrs[0])
            return parts.port or (443 if parts.scheme == "https" else 80)
        return 80

    def scope(self, kind: str) -> str | None:
        """The value of an ``onvif://www.onvif.org/<kind>/<value>`` scope (name, hardware, location...)."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for scope in self.scopes:
            if scope.startswith(prefix):
                return unquote(scope[len(prefix):])
        return None

    @property
    def model(self) -> str:
        return self.scope("hardware") or self.scope("name") or "(unknown model)"


def discover(timeout_s: float = 3.0, interface: str | None = None) -> list[DiscoveredDevice]:
    """Send one WS-Discovery Probe and return the devices that answered within ``timeout_s``.

    ``interface`` is the local IPv4 address of the interface to probe from (default: the system's choice).
    """
    message_id = uuid.uuid4()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("b", 1))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        if interface:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
        sock.bind((interface or "", 0))
        sock.sendto(PROBE.format(message_id=message_id).encode(), MULTICAST)
        found: dict[str, DiscoveredDevice] = {}
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                data, (address, _port) = sock.recvfrom(65536)
            except TimeoutError:
                break
            for device in parse_probe_matches(data, address, str(message_id)):
                found.setdefault(device.endpoint or ",".join(device.xaddrs), device)
        return sorted(found.values(), key=lambda d: (d.address, d.xaddrs))
    finally:
        sock.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_probe_matches(data: bytes, address: str, message_id: str | None = None) -> list[DiscoveredDevice]:
    """The devices in one ProbeMatch datagram (an unrelated or broken datagram gives none)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return []
    if message_id is not None:
        relates = [e.text or "" for e in root.iter() if _local(e.tag) == "RelatesTo"]
        if relates and not any(message_id in r for r in relates):
            return []  # a reply to somebody else's probe
    devices = []
    for match in (e for e in root.iter() if _local(e.tag) == "ProbeMatch"):
        texts: dict[str, str] = {}
        for child in match.iter():
            if _local(child.tag) in ("XAddrs", "Scopes", "Address") and child.text:
                texts.setdefault(_local(child.tag), child.text.strip())
        xaddrs = texts.get("XAddrs", "").split()
        if xaddrs:
            devices.append(DiscoveredDevice(address, xaddrs, texts.get("Scopes", "").split(), texts.get("Address", "")))
    return devices
