#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives a real headless Chromium (through chromedriver and Selenium) against
volactd's dashboard: the sign-in page comes first, a wrong password is refused,
a good one shows the dashboard, whose report tables and charts must equal what
`volactctl --json report NAME` says. Saves the page and a screenshot.

usage: dashboard-browser.py URL USER PASSWORD SPKI-SHA256-BASE64 OUTDIR VOLACTCTL SOCKET
"""
import json
import os
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

REPORTS = ["activation-count-summary", "activity-history", "licensing-status-summary",
           "machine-expiration-chart", "machine-expiration-detail", "vm-summary"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def sign_in(driver, url, user, password):
    driver.get(url + "/")
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.NAME, "password")))
    driver.find_element(By.NAME, "user").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form [type=submit], form button").click()


def cell_text(value):
    return str(value)


def main():
    url, user, password, spki, outdir, volactctl, socket = sys.argv[1:8]
    os.makedirs(outdir, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="volact-chromium.")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--user-data-dir=" + profile,
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                # Trust exactly the test's self-signed certificate (pinned by its key), no other.
                "--ignore-certificate-errors-spki-list=" + spki):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        driver.set_page_load_timeout(60)
        # A wrong password: the sign-in page again, saying so.
        sign_in(driver, url, user, password + "-wrong")
        WebDriverWait(driver, 60).until(
            ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Wrong user name or password"))
        if driver.find_elements(By.ID, "status"):
            fail("a wrong password shows the dashboard")
        # The right one: the dashboard.
        sign_in(driver, url, user, password)
        WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "status")))
        with open(os.path.join(outdir, "dashboard.html"), "w", encoding="utf-8") as f:
            f.write(driver.page_source)
        if driver.find_elements(By.TAG_NAME, "script"):
            fail("the dashboard has a script element")

        for name in REPORTS:
            want = json.loads(subprocess.run([volactctl, "--socket", socket, "--json", "report", name],
                                             check=True, capture_output=True, text=True).stdout)
            tables = driver.find_elements(By.CSS_SELECTOR, "table.report[data-report='%s']" % name)
            if len(tables) != 1:
                fail("%s: %d tables" % (name, len(tables)))
            heads = [th.text for th in tables[0].find_elements(By.CSS_SELECTOR, "thead th")]
            if heads != want["columns"]:
                fail("%s: columns %s, volactctl says %s" % (name, heads, want["columns"]))
            rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                    for tr in tables[0].find_elements(By.CSS_SELECTOR, "tbody tr:not(.empty)")]
            expected = [[cell_text(c) for c in row] for row in want["rows"]]
            if rows != expected:
                fail("%s: rows %s, volactctl says %s" % (name, rows, expected))
            print("%s: %d rows equal volactctl report --json" % (name, len(rows)))

        # The charts: one bar per day, each the day's total from the same report.
        history = json.loads(subprocess.run([volactctl, "--socket", socket, "--json", "report",
                                             "activity-history"], check=True, capture_output=True,
                                            text=True).stdout)
        svg = driver.find_elements(By.CSS_SELECTOR, "#report-activity-history svg")
        if len(svg) != 1:
            fail("activity-history: %d charts" % len(svg))
        col = history["columns"]
        requests = {}
        for row in history["rows"]:
            requests[row[col.index("day")]] = requests.get(row[col.index("day")], 0) + \
                row[col.index("requests")]
        bars = {}
        for el in svg[0].find_elements(By.CSS_SELECTOR, "[data-day][data-value]"):
            bars.setdefault(el.get_attribute("data-day"), []).append(int(el.get_attribute("data-value")))
        for day, total in requests.items():
            if total not in bars.get(day, []):
                fail("activity-history chart: no bar of %d requests on %s (bars %s)" % (total, day, bars))
        chart = json.loads(subprocess.run([volactctl, "--socket", socket, "--json", "report",
                                           "machine-expiration-chart"], check=True,
                                          capture_output=True, text=True).stdout)
        svg = driver.find_elements(By.CSS_SELECTOR, "#report-machine-expiration-chart svg")
        if len(svg) != 1:
            fail("machine-expiration-chart: %d charts" % len(svg))
        got = sorted((el.get_attribute("data-day"), int(el.get_attribute("data-value")))
                     for el in svg[0].find_elements(By.CSS_SELECTOR, "[data-day][data-value]"))
        want = sorted((r[0], r[1]) for r in chart["rows"])
        if got != want:
            fail("machine-expiration-chart bars %s, volactctl says %s" % (got, want))

        # The health line is the one volactctl health prints.
        health = json.loads(subprocess.run([volactctl, "--socket", socket, "--json", "health"],
                                           capture_output=True, text=True).stdout)
        shown = driver.find_element(By.ID, "health-status").text
        if health["summary"] not in shown:
            fail("health shows %r, volactctl health says %r" % (shown, health["summary"]))

        # The whole page in one screenshot.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(800, min(int(height) + 100, 12000)))
        driver.save_screenshot(os.path.join(outdir, "dashboard.png"))
        print("screenshot: " + os.path.join(outdir, "dashboard.png"))
    finally:
        driver.quit()
        subprocess.run(["rm", "-rf", profile], check=False)


if __name__ == "__main__":
    main()
