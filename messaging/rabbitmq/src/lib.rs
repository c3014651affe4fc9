//! weft's RabbitMQ backend (in progress).
