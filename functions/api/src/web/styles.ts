// The page's whole stylesheet, inlined into it: one response, no request for a file. Colours
// are custom properties so the dark scheme (which follows the system) changes only them; each
// pair meets WCAG AA contrast (axe checks it in test/web).
export const styles = `
:root{color-scheme:light dark;--bg:#fbfbfa;--fg:#1d1d1f;--muted:#575760;--line:#d6d6dc;--card:#fff;
--accent:#1a56b8;--accent-fg:#fff;--mark:#ffe27a;--bad:#a3161a;--ok:#14692b;
font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
@media (prefers-color-scheme:dark){:root{--bg:#141417;--fg:#ececf0;--muted:#a9a9b4;--line:#3a3a44;
--card:#1e1e23;--accent:#8db4ff;--accent-fg:#0b1530;--mark:#6b5400;--bad:#ff9c9c;--ok:#7fdc98}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.75rem 1rem;
border-bottom:1px solid var(--line)}
header h1{font-size:1.2rem;margin:0}nav{display:flex;gap:.25rem;flex-wrap:wrap}
nav a{padding:.35rem .7rem;border-radius:.4rem;text-decoration:none}
nav a[aria-current=page]{background:var(--accent);color:var(--accent-fg)}
#key-form{margin-left:auto;display:flex;gap:.4rem;align-items:center}#key-form input{width:11rem}
main{max-width:60rem;margin:0 auto;padding:1rem}h2{margin:.25rem 0 .75rem}h3{margin:0 0 .25rem;font-size:1rem}
form.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
form.row .grow{flex:1 1 16rem}label{display:flex;flex-direction:column;gap:.2rem;font-size:.9rem;color:var(--muted)}
label.check{flex-direction:row;align-items:center}
input,select,textarea,button{font:inherit;color:var(--fg);background:var(--card);border:1px solid var(--line);
border-radius:.4rem;padding:.45rem .6rem}
button{cursor:pointer;background:var(--accent);color:var(--accent-fg);border-color:var(--accent)}
button.quiet{background:transparent;color:var(--accent)}button:disabled{opacity:.6;cursor:wait}
ol.cards,ul.cards{list-style:none;padding:0;margin:0;display:grid;gap:.6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.7rem .8rem}
.card>button.play{all:unset;display:block;cursor:pointer;width:100%}
.card>button.play:focus-visible{outline:3px solid var(--accent)}
.meta{color:var(--muted);font-size:.88rem}.quote{margin:.3rem 0 0;border-left:3px solid var(--line);padding-left:.6rem}
mark{background:var(--mark);color:inherit}.bad{color:var(--bad)}.ok{color:var(--ok)}
#answer{white-space:pre-wrap;margin:0 0 1rem;min-height:1.5rem}
#answer button{all:unset;color:var(--accent);cursor:pointer;text-decoration:underline}
#answer button:focus-visible{outline:3px solid var(--accent)}
#notice{margin:0 auto;max-width:60rem;padding:.6rem 1rem;border:2px solid var(--bad);border-radius:.4rem;
color:var(--bad)}
#player-panel{position:sticky;top:0;z-index:1;background:var(--bg);padding-bottom:.5rem;margin-bottom:1rem;
border-bottom:1px solid var(--line)}
#player iframe,#player video{width:100%;aspect-ratio:16/9;max-height:40vh;border:0;border-radius:.5rem;background:#000}
progress{width:100%;height:.9rem}.actions{display:flex;gap:.4rem;flex-wrap:wrap;margin-top:.4rem}
#transcript-lines{max-height:60vh;overflow:auto;padding-left:0;list-style:none}
#transcript-lines a{display:block;padding:.15rem 0}
.time{font-variant-numeric:tabular-nums;color:var(--muted);margin-right:.5rem}
@media (max-width:40rem){#key-form{margin-left:0;width:100%}#key-form input{flex:1}main{padding:.75rem}}
`
