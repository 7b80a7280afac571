//! /api/v1 at parity with the pages: api_studies.
