"""jobscrape: a Kubernetes operator for scheduled job-board scraping."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/jobscrape/jobscrape"
