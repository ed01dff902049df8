"""Getting a profile out of a program: launch, attach, in-process, the collector and the recording writer."""
