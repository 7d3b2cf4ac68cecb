"""The runner: what a CronJob pod runs for one JobSource (`jobscrape run`): fetch, parse,
filter, store and report. Shares only lower layers with the operator."""
