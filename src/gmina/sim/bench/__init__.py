"""Detection benchmark: a detector protocol, trivial reference detectors, the matching rule and scores."""
