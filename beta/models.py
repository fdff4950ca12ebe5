from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker consuming a queue ran a task: proof that each queue is being served."""

    queue = models.CharField(max_length=32, unique=True)
    hostname = models.CharField(max_length=255)
    beat_at = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["queue"]

    def __str__(self) -> str:
        return f"{self.queue} @ {self.hostname}"
