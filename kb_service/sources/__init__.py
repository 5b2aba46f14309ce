"""Web sources, network side: fetching behind the SSRF guard, robots.txt, listing, plans.

- `fetch.py`: the guard (`UrlGuard`), the fetcher (redirects by hand, limits), its policy;
- `robots.py`: robots.txt per origin, with `Crawl-delay`;
- `listing.py`: sitemaps (and indexes, gzipped or not), crawl scope, include/exclude;
- `pages.py`: one page's conditional fetch, main text and outcome;
- `plan.py`: what a sync would change, written by `workers/sources/sync.py`.
"""
