"""A Docket worker in Python. `pip install ./clients/python`, then:
DOCKET_URL=http://127.0.0.1:8080 DOCKET_KEY=dk_... python3 examples/python-worker/worker.py text"""
import sys

from docket_client import Client, Worker

worker = Worker(Client(), queues=sys.argv[1:] or ["text"], concurrency=4)  # Client() reads DOCKET_URL, DOCKET_KEY


@worker.task("wordcount")
def wordcount(job, ctx):
    words = ctx.step("split", lambda: job.payload.get("text", "").split())
    ctx.progress(100, "counted")
    return {"words": len(words), "worker": "python"}


worker.run()  # until Ctrl-C or SIGTERM: running jobs finish, the worker deregisters
