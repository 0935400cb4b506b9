"""Search spaces: construction, JSON, encoding, diff, mapping and projection."""

from hptaa_lab.space._build import as_space, build_space, space_from_json, space_to_json
from hptaa_lab.space._diff import (
    Change,
    ChangeKind,
    RenameSuggestion,
    SpaceDiff,
    describe,
    diff,
    rules,
)
from hptaa_lab.space._encoding import Encoder, choice_index, hp_kind
from hptaa_lab.space._mapping import Mapping, ValueTransform, as_mapping
from hptaa_lab.space._projection import Projection, names_beyond, project, subspace

__all__ = [
    "Change",
    "ChangeKind",
    "Encoder",
    "Mapping",
    "Projection",
    "RenameSuggestion",
    "SpaceDiff",
    "ValueTransform",
    "as_mapping",
    "as_space",
    "build_space",
    "choice_index",
    "describe",
    "diff",
    "hp_kind",
    "names_beyond",
    "project",
    "rules",
    "space_from_json",
    "space_to_json",
    "subspace",
]
