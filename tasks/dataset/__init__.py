"""6. The dataset: consolidated rows and indicators per year, history, achievement rates."""
