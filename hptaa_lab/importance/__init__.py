"""Hyperparameter importance: fANOVA on a scikit-learn random forest."""

from __future__ import annotations

from hptaa_lab.importance._fanova import fanova_importance, first_order_importance

__all__ = ["fanova_importance", "first_order_importance"]
