"""The web layer: one blueprint per area, each view parse -> call one domain function -> render."""
