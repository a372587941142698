// plotly.js is served as a file (Streamlit's static serving; ui/live_view.py copies it from the
// installed plotly wheel), loaded once per page: never inlined in the component's data.
let loading = null;

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading && window.__optivizPlotly) loading = window.__optivizPlotly;   // the page's preload
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL("app/static/plotly.min.js", document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { loading = null; reject(new Error("plotly.min.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return loading;
}
