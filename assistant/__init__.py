"""CBSS child-protection guidance assistant."""
