"""Generated cases: proposals written by a model from the behavior spec, reviewed before they are kept.

The pieces, each pure (no Qt, no network):
- `grid.py`: which probes to ask for (rule x persona x kind) and `rules_of` / `unprobed` (coverage);
- `prompt.py`: the versioned generation prompt and the messages one probe sends;
- `reply.py`: the JSON schema of one proposal and the forgiving reader of a model's reply;
- `dedupe.py`: near-duplicate detection against existing cases and among proposals;
- `proposals.py`: a proposal, and turning accepted ones into normal cases;
- `validation.py`: `probes:` naming a rule the file does not have, with file:line:col.
The engine side (sending the probes under the scheduler's limits) is `app/engine/casegen.py`.
"""
