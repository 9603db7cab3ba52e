"""50 people browsing and searching the public cases, 5 families uploading photos.

Run by bench/load/run.sh (headless, time-bounded) against gunicorn on loopback with
production settings. The portal sits behind a TLS proxy in production, so every
request says ``X-Forwarded-Proto: https`` and carries a same-origin Referer, as a
browser behind that proxy would; the cookies Django marks Secure are sent back over
the loopback connection.
"""

from __future__ import annotations

import json
import random
import re
from itertools import cycle
from pathlib import Path

from locust import HttpUser, between, task

SEED = json.loads(
    (Path(__file__).resolve().parents[2] / "var" / "bench" / "load" / "seed.json").read_text()
)
UPLOADERS = iter(SEED["uploaders"])
UPLOAD_FILES = [
    (name, (Path(SEED["faces_dir"]) / name).read_bytes()) for name in SEED["upload_files"]
]
PHOTO_ID = re.compile(r'data-photo-id="(\d+)"')


class Visitor(HttpUser):
    abstract = True

    def on_start(self) -> None:
        origin = self.host.replace("http://", "https://")
        self.client.headers.update({"X-Forwarded-Proto": "https", "Referer": origin + "/"})

    def after(self, response):
        # Secure cookies would not go back over plain HTTP: the proxy's side is simulated.
        for cookie in self.client.cookies:
            cookie.secure = False
        return response


class BrowsingUser(Visitor):
    """Someone looking at the public pages and searching."""

    weight = 50
    wait_time = between(1, 3)

    @task(3)
    def case_list(self) -> None:
        self.after(self.client.get("/cases/", name="/cases/"))

    @task(4)
    def search(self) -> None:
        query = random.choice([
            {"name": random.choice(SEED["names"])},
            {"place": random.choice(SEED["provinces"])},
            {"sex": random.choice(["F", "M"]), "year_missing_from": random.randint(1985, 2005)},
            {"age_missing_from": 2, "age_missing_to": 5, "place": random.choice(SEED["provinces"])},
        ])
        self.after(self.client.get("/cases/", params=query, name="/cases/?search"))

    @task(4)
    def case_detail(self) -> None:
        case = random.choice(SEED["cases"])
        self.after(self.client.get(f"/cases/{case}/", name="/cases/[id]/"))

    @task(3)
    def photo(self) -> None:
        photo = random.choice(SEED["photos"])
        self.after(self.client.get(f"/photos/{photo}/image/", name="/photos/[id]/image/"))

    @task(1)
    def home(self) -> None:
        self.after(self.client.get("/", name="/"))


class UploadingUser(Visitor):
    """A family adding photos to its case and watching their faces being found."""

    fixed_count = 5
    wait_time = between(4, 8)

    def on_start(self) -> None:
        super().on_start()
        self.account = next(UPLOADERS)
        self.files = cycle(random.sample(UPLOAD_FILES, len(UPLOAD_FILES)))
        self.photo_ids: list[str] = []
        self.after(self.client.get("/accounts/login/", name="/accounts/login/"))
        response = self.after(self.client.post("/accounts/login/", name="/accounts/login/", data={
            "username": self.account["email"], "password": self.account["password"],
            "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
        }, allow_redirects=False))
        if response.status_code != 302:
            response.failure(f"log-in failed: {response.status_code}")

    @property
    def photos_url(self) -> str:
        return f"/cases/{self.account['case']}/photos/"

    @task(2)
    def upload(self) -> None:
        name, data = next(self.files)
        with self.client.post(
            self.photos_url, name="/cases/[id]/photos/ upload", allow_redirects=False,
            data={"kind": "childhood", "age_in_photo": "2",
                  "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            files={"image": (name, data, "image/jpeg")}, catch_response=True,
        ) as response:
            self.after(response)
            if response.status_code != 302:
                response.failure(f"upload refused: {response.status_code}")

    @task(2)
    def photos_page(self) -> None:
        response = self.after(self.client.get(self.photos_url, name="/cases/[id]/photos/"))
        self.photo_ids = PHOTO_ID.findall(response.text)[-20:]

    @task(5)
    def poll_states(self) -> None:
        if self.photo_ids:
            self.after(self.client.get("/photos/states/", params={"ids": ",".join(self.photo_ids)},
                                       name="/photos/states/"))

    @task(1)
    def dashboard(self) -> None:
        self.after(self.client.get("/me/", name="/me/"))
