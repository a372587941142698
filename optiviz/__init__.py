"""optiviz: the app's importable side (scene config, figures, presets, URL state, export).

Nothing here imports Streamlit, so all of it is tested without a browser.
"""
