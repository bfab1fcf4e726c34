"""The evaluation beside the engine: known-question sets run through the whole ``ask``.

``questions`` reads and checks the sets, ``harness`` runs and compares them (``assistant
evaluate``), ``metrics`` are pure functions, ``report`` renders tables and pages,
``detectors`` measures the safeguarding detectors alone and ``external`` runs the public
cross-lingual benchmarks. The engine never imports this package.
"""
