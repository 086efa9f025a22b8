"""Exchange: knowledge, seeks and offers matched across the border (data groundwork so far:
the bilingual taxonomy in taxonomy.py and the region's places in places.py)."""
