"""Drawing tcpbook traces: the state diagram, the ladder (sequence) diagram and the timeline."""
