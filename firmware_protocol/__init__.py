"""Everything on the wire: pure decoders and encoders for the probe protocols. No I/O.

- ``frames``: the SympaTherm binary serial protocol v1 (COBS, CRC-16, streaming decoder)
- ``textlines``: the plain-text line protocol of hobby and legacy probes
- ``sniff``: telling the two apart by listening
- ``ble``: Health Thermometer and Environmental Sensing characteristic values
- ``thermistor``: resistance <-> temperature, ADC divider, faults, per-probe calibration

The specification for firmware engineers is ``PROTOCOL.md`` in this folder.
"""
