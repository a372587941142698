"""The Streamlit layer's helpers: everything here may import streamlit; optiviz/ never does."""
