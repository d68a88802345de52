"""After the searches: benchmark look-ups, aggregation against published numbers, figures, reports.

One module per step (``evaluate``, ``published``, ``aggregate``, ``figures``, ``markdown``),
each called by one ``isdarts`` verb (``report/cli.py``) and by one rule of the workflow.
None of them imports torch.
"""
