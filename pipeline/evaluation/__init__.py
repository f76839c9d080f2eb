"""Evaluation of VeriKG against public benchmarks, with the benchmarks' own metrics."""
