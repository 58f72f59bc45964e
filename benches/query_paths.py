#!/usr/bin/env python3
"""Writes the benchmark query mix as request paths, one per line.

The same shape as benches/search.rs: per 10 queries, 4 location + radius
10-100 mi + 0-2 filters sorted by rating, 2 distance sorts, 2 text +
location, 2 text alone; cities drawn by population; seeded.
"""
import csv
import random
import sys
from urllib.parse import urlencode

WORDS = ["infusion", "depression", "crps", "ptsd", "spravato", "fibromyalgia",
         "anxiety", "chronic pain", "migraine", "psychotherapy", "nerve pain",
         "supervised"]
FILTERS = [("treatment", "iv_infusion"), ("treatment", "esketamine_nasal"),
           ("condition", "crps"), ("condition", "treatment_resistant_depression"),
           ("insurance", "aetna"), ("telehealth", "true"), ("accepting", "true"),
           ("min_rating", "4")]


def main() -> None:
    cities_path, count = sys.argv[1], int(sys.argv[2])
    # "/api/v1/search?" (the partner API, default) or "/?" (the results page).
    prefix = sys.argv[3] if len(sys.argv) > 3 else "/api/v1/search?"
    with open(cities_path, newline="") as f:
        cities = [(float(r["lat"]), float(r["lon"]), float(r["population"]))
                  for r in csv.DictReader(f)]
    weights = [c[2] for c in cities]
    rng = random.Random(1)
    for i in range(count):
        kind = i % 10
        pairs = []
        if kind < 8:
            lat, lon, _ = rng.choices(cities, weights)[0]
            pairs += [("lat", f"{lat:.4f}"), ("lon", f"{lon:.4f}"),
                      ("radius", str(rng.randint(10, 100)))]
        if kind < 4:
            for name, value in rng.sample(FILTERS, rng.randint(0, 2)):
                if all(name != n for n, _ in pairs):
                    pairs.append((name, value))
        elif kind < 6:
            pairs.append(("sort", "distance"))
        else:
            pairs.append(("q", rng.choice(WORDS)))
        print(prefix + urlencode(pairs))


if __name__ == "__main__":
    main()
