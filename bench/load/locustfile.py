"""Locust scenarios for one Greenlight deployment (run by bench/load/run.py, which seeds and passes these in env):

- PartnerBrowser: a partner in the browser: home, tool catalogue, job list, asset library, job pages.
- PartnerUploader: small files through the chunked upload protocol (local storage mode), then a `noop` job on
  each, then the job's page.
- Reviewer: studio staff reading the feedback inbox and the results dashboard.
- ApiPoller: a studio's pipeline polling its jobs through the API.
"""

import json
import os
import random

from locust import HttpUser, between, task

SESSION_PARTNER = os.environ["LOAD_PARTNER_SESSION"]
SESSION_REVIEWER = os.environ["LOAD_REVIEWER_SESSION"]
API_KEY = os.environ["LOAD_API_KEY"]
ASSET_IDS = json.loads(os.environ["LOAD_ASSET_IDS"])
JOB_IDS = json.loads(os.environ["LOAD_JOB_IDS"])


class PartnerBrowser(HttpUser):
    weight = 4
    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("sessionid", SESSION_PARTNER)

    @task(3)
    def home(self):
        self.client.get("/home/", name="partner: home")

    @task(2)
    def catalogue(self):
        self.client.get("/tools/", name="partner: tools")

    @task(3)
    def jobs(self):
        self.client.get("/jobs/", name="partner: job list")

    @task(2)
    def library(self):
        self.client.get("/assets/", name="partner: asset library")

    @task(3)
    def job_page(self):
        self.client.get(f"/jobs/{random.choice(JOB_IDS)}/", name="partner: job page")


class PartnerUploader(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {API_KEY}"
        self.client.cookies.set("sessionid", SESSION_PARTNER)

    @task
    def upload_and_run(self):
        data = os.urandom(2048) + b"\nINT. BACKLOT - DAY\n"
        started = self.client.post("/api/v1/assets/", json={"filename": "notes.txt", "size": len(data)},
                                   name="upload: start").json()
        urls = self.client.post(started["parts_url"], json={"part_numbers": [1]}, name="upload: part urls").json()
        self.client.put(urls["urls"]["1"], data=data, headers={"Content-Type": "application/octet-stream"},
                        name="upload: part")
        self.client.post(started["complete_url"], name="upload: complete")
        job = self.client.post("/api/v1/jobs/", json={"tool": "noop", "inputs": [random.choice(ASSET_IDS)]},
                               name="job: submit").json()
        self.client.get(f"/jobs/{job['id']}/", name="partner: job page")


class Reviewer(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        self.client.cookies.set("sessionid", SESSION_REVIEWER)

    @task(2)
    def inbox(self):
        self.client.get("/staff/feedback/", name="reviewer: inbox")

    @task(1)
    def dashboard(self):
        self.client.get("/staff/results/", name="reviewer: results dashboard")


class ApiPoller(HttpUser):
    weight = 2
    wait_time = between(1, 2)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {API_KEY}"

    @task(1)
    def list_jobs(self):
        self.client.get("/api/v1/jobs/", name="api: job list")

    @task(3)
    def poll_job(self):
        self.client.get(f"/api/v1/jobs/{random.choice(JOB_IDS)}/", name="api: job")
