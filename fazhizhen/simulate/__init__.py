"""`fazhizhen simulate`: a discrete-event replay of a synthetic city through the service's routing rules."""
