package dev.cna.gateway;

/** The answer to a saved manual circuit: its name and version, and where Kafka wrote it. */
public record PublishedCircuit(String name, long version, String topic, int partition, long offset) {}
