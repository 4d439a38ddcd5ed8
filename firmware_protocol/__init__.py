"""Everything on the wire: pure decoders and encoders for the probe protocols. No I/O."""
