#!/usr/bin/env python3
"""Writes the benchmark query mix as request paths, one per line.

The same mix as benches/search.rs's `query_mix` (the proportions users
send, issue "Speed at 1M"): per 20 queries
  11 x a place (lat/lon of a city drawn by population) + radius 10-100 mi
       + 0-2 filters, sorted by rating (the default),
   3 x a place + radius, sort=distance,
   3 x one of the WORDS + a place + radius (rating order),
   2 x one of the WORDS alone, sort=relevance,
   1 x state (a city's, drawn by population) + one treatment.
The same WORDS, FILTERS and TREATMENTS lists; seeded, so the file is the
same every run (it is not the Rust bench's random sequence, only its
proportions and shapes).

    python3 benches/query_paths.py data/us_cities.csv 10000 [PREFIX]
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
TREATMENTS = ["iv_infusion", "im_injection", "esketamine_nasal", "oral_sublingual",
              "ketamine_assisted_psychotherapy"]


def kind_of(i: int) -> int:
    """The class of the i-th query: 0 place + filters, 1 distance, 2 words +
    place, 3 words alone by relevance, 4 state + treatment."""
    slot = i % 20
    if slot <= 10:
        return 0
    if slot <= 13:
        return 1
    if slot <= 16:
        return 2
    if slot <= 18:
        return 3
    return 4


def main() -> None:
    cities_path, count = sys.argv[1], int(sys.argv[2])
    # "/api/v1/search?" (the partner API, default) or "/?" (the results page).
    prefix = sys.argv[3] if len(sys.argv) > 3 else "/api/v1/search?"
    with open(cities_path, newline="") as f:
        cities = [(float(r["lat"]), float(r["lon"]), float(r["population"]), r["state"])
                  for r in csv.DictReader(f)]
    weights = [c[2] for c in cities]
    rng = random.Random(1)
    for i in range(count):
        kind = kind_of(i)
        pairs = []
        if kind == 4:
            state = rng.choices(cities, weights)[0][3]
            pairs += [("state", state), ("treatment", rng.choice(TREATMENTS))]
        elif kind != 3:
            lat, lon, _, _ = rng.choices(cities, weights)[0]
            pairs += [("lat", f"{lat:.4f}"), ("lon", f"{lon:.4f}"),
                      ("radius", str(rng.randint(10, 100)))]
        if kind == 0:
            for _ in range(rng.randint(0, 2)):
                name, value = rng.choice(FILTERS)
                if all(name != n for n, _ in pairs):
                    pairs.append((name, value))
        elif kind == 1:
            pairs.append(("sort", "distance"))
        elif kind == 2:
            pairs.append(("q", rng.choice(WORDS)))
        elif kind == 3:
            pairs += [("q", rng.choice(WORDS)), ("sort", "relevance")]
        print(prefix + urlencode(pairs))


if __name__ == "__main__":
    main()
