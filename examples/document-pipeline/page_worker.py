"""The document pipeline's page worker, in Python (docket_client, clients/python).

pages.ts splits a document into pages and adds a `page` job for each to the
`pages` queue, then a `merge-pages` job after them that pipeline.ts (the
TypeScript worker `npm start` runs) handles with these results:

    DOCKET_KEY=dk_... python3 examples/document-pipeline/page_worker.py
"""

import re
from collections import Counter

from docket_client import Client, Worker

STOP = set("the and for with that this from your our are was were will have has not you can all any per about dear kind regards thank".split())
WORD = re.compile(r"[^\W\d_][\w'-]*")
AMOUNT = re.compile(r"(?:[$€£]\s?|\b)\d{1,3}(?:,\d{3})*\.\d{2}\b")

worker = Worker(Client(), queues=["pages"], concurrency=4)  # Client() reads DOCKET_URL and DOCKET_KEY


@worker.task("page")
def page(job, ctx):
    text = job.payload["text"]
    words = ctx.step("words", lambda: WORD.findall(text))
    ctx.progress(50, f"{len(words)} words")
    with ctx.step("keywords"):
        counts = Counter(w.lower() for w in words if len(w) > 3 and w.lower() not in STOP)
    ctx.progress(100, "analysed")
    return {
        "page": job.payload["page"],
        "words": len(words),
        "keywords": [w for w, _ in counts.most_common(5)],
        "amounts": AMOUNT.findall(text),
        "by": "python",
    }


if __name__ == "__main__":
    worker.run()  # until Ctrl-C or SIGTERM
